using System.Runtime.InteropServices;
using Polling.Os;
using Tmds.Linux;
using static Polling.Os.NativeMethods;

namespace Polling.Net.Os;

/// <content>
/// The socket calls that move bytes or connections — the calls whose would-block the backend must hear about.
/// They are private to <see cref="SocketCore"/>, so a source cannot make one without passing its errno through
/// <see cref="SocketCore.Complete"/> (and so <see cref="IoSource.Complete"/>). The imports take the
/// <see cref="SafeHandle"/>, so the marshaller holds a reference for the call; each retries EINTR and returns 0
/// or the errno.
/// </content>
internal partial struct SocketCore
{
    private static unsafe class Calls
    {
        /// <summary><c>recv</c>: reads into <paramref name="buffer"/>; <paramref name="received"/> 0 means end of stream.</summary>
        public static int Receive(SafeHandle handle, Span<byte> buffer, int flags, out int received)
        {
            fixed (byte* pointer = buffer)
            {
                int errno;
                while (!Errno.SettledNegated(recv(handle, pointer, (nuint)buffer.Length, flags), out received, out errno))
                {
                }

                return errno;
            }
        }

        /// <summary><c>send</c> with <c>MSG_NOSIGNAL</c> always added: a write to a reset connection returns EPIPE instead of raising SIGPIPE.</summary>
        public static int Send(SafeHandle handle, ReadOnlySpan<byte> buffer, int flags, out int sent)
        {
            fixed (byte* pointer = buffer)
            {
                int errno;
                while (!Errno.SettledNegated(send(handle, pointer, (nuint)buffer.Length, flags | LibC.MSG_NOSIGNAL), out sent, out errno))
                {
                }

                return errno;
            }
        }

        /// <summary>
        /// <c>recvfrom</c>: reads one datagram (or stream bytes) and the sender's address into
        /// <paramref name="address"/> (at least <see cref="SockAddr.StorageSize"/> bytes, or empty to skip it).
        /// </summary>
        public static int ReceiveFrom(SafeHandle handle, Span<byte> buffer, int flags, Span<byte> address, out int addressLength, out int received)
        {
            fixed (byte* pointer = buffer)
            fixed (byte* addressPointer = address)
            {
                socklen_t length;
                int errno;
                do
                {
                    length = (uint)address.Length;
                }
                while (!Errno.Settled(recvfrom(handle, pointer, (nuint)buffer.Length, flags, (sockaddr*)addressPointer, address.IsEmpty ? null : &length), out received, out errno));

                addressLength = errno != 0 || address.IsEmpty ? 0 : Math.Min((int)(uint)length, address.Length);
                return errno;
            }
        }

        /// <summary><c>sendto</c> with <c>MSG_NOSIGNAL</c>; an empty <paramref name="address"/> sends to the connected peer.</summary>
        public static int SendTo(SafeHandle handle, ReadOnlySpan<byte> buffer, int flags, ReadOnlySpan<byte> address, out int sent)
        {
            fixed (byte* pointer = buffer)
            fixed (byte* addressPointer = address)
            {
                int errno;
                while (!Errno.Settled(sendto(handle, pointer, (nuint)buffer.Length, flags | LibC.MSG_NOSIGNAL, (sockaddr*)addressPointer, (uint)address.Length), out sent, out errno))
                {
                }

                return errno;
            }
        }

        /// <summary>
        /// <c>accept4</c> with <c>SOCK_NONBLOCK|SOCK_CLOEXEC</c>: the accepted socket is non-blocking and
        /// close-on-exec from birth. The peer's address goes to <paramref name="address"/> unless it is empty.
        /// </summary>
        public static int Accept(SafeHandle handle, Span<byte> address, out int addressLength, out FdHandle? accepted)
        {
            fixed (byte* pointer = address)
            {
                socklen_t length;
                int fd;
                int errno;
                do
                {
                    length = (uint)address.Length;
                }
                while (!Errno.Settled(
                    fd = accept4(handle, (sockaddr*)pointer, address.IsEmpty ? null : &length, LibC.SOCK_NONBLOCK | LibC.SOCK_CLOEXEC), out _, out errno));

                accepted = errno == 0 ? new FdHandle(fd) : null;
                addressLength = errno != 0 || address.IsEmpty ? 0 : Math.Min((int)(uint)length, address.Length);
                return errno;
            }
        }
    }
}
