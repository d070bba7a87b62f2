using System.Runtime.InteropServices;
using Polling.Os;
using Tmds.Linux;
using static Tmds.Linux.LibC;

namespace Polling.Net.Os;

/// <content>
/// The system calls that move bytes or connections — the calls whose would-block the backend must hear
/// about. They are private to <see cref="SocketCore"/>, so a source cannot make one without passing its errno
/// through <see cref="SocketCore.Complete"/> (and so <see cref="Registration.Complete"/>): forgetting to tell
/// the backend is not possible to write. Each holds a reference on the handle for the call, retries EINTR and
/// returns 0 or the errno.
/// </content>
internal partial struct SocketCore
{
    private static unsafe class Calls
    {
        /// <summary><c>recv</c>: reads into <paramref name="buffer"/>; <paramref name="received"/> 0 means end of stream.</summary>
        public static int Receive(SafeHandle handle, Span<byte> buffer, int flags, out int received)
        {
            int fd = SocketCalls.Enter(handle);
            try
            {
                fixed (byte* pointer = buffer)
                {
                    int errno;
                    while (!Completed(recv(fd, pointer, buffer.Length, flags), out received, out errno))
                    {
                    }

                    return errno;
                }
            }
            finally
            {
                handle.DangerousRelease();
            }
        }

        /// <summary><c>send</c> with <c>MSG_NOSIGNAL</c> always added: a write to a reset connection returns EPIPE instead of raising SIGPIPE.</summary>
        public static int Send(SafeHandle handle, ReadOnlySpan<byte> buffer, int flags, out int sent)
        {
            int fd = SocketCalls.Enter(handle);
            try
            {
                fixed (byte* pointer = buffer)
                {
                    int errno;
                    while (!Completed(send(fd, pointer, buffer.Length, flags | SocketCalls.MSG_NOSIGNAL), out sent, out errno))
                    {
                    }

                    return errno;
                }
            }
            finally
            {
                handle.DangerousRelease();
            }
        }

        /// <summary>
        /// <c>recvfrom</c>: reads one datagram (or stream bytes) and the sender's address into
        /// <paramref name="address"/> (at least <see cref="SockAddr.StorageSize"/> bytes, or empty to skip it).
        /// </summary>
        public static int ReceiveFrom(SafeHandle handle, Span<byte> buffer, int flags, Span<byte> address, out int addressLength, out int received)
        {
            int fd = SocketCalls.Enter(handle);
            try
            {
                fixed (byte* pointer = buffer)
                fixed (byte* addressPointer = address)
                {
                    while (true)
                    {
                        socklen_t length = (uint)address.Length;
                        long result = recvfrom(fd, pointer, buffer.Length, flags, (sockaddr*)addressPointer, address.IsEmpty ? null : &length);
                        if (result >= 0)
                        {
                            received = (int)result;
                            addressLength = address.IsEmpty ? 0 : Math.Min((int)(uint)length, address.Length);
                            return 0;
                        }

                        int errno = Errno.Last;
                        if (errno != SocketErrors.EINTR)
                        {
                            received = 0;
                            addressLength = 0;
                            return errno;
                        }
                    }
                }
            }
            finally
            {
                handle.DangerousRelease();
            }
        }

        /// <summary><c>sendto</c> with <c>MSG_NOSIGNAL</c>; an empty <paramref name="address"/> sends to the connected peer.</summary>
        public static int SendTo(SafeHandle handle, ReadOnlySpan<byte> buffer, int flags, ReadOnlySpan<byte> address, out int sent)
        {
            int fd = SocketCalls.Enter(handle);
            try
            {
                fixed (byte* pointer = buffer)
                fixed (byte* addressPointer = address)
                {
                    int errno;
                    while (!Completed(sendto(fd, pointer, buffer.Length, flags | SocketCalls.MSG_NOSIGNAL, (sockaddr*)addressPointer, (uint)address.Length), out sent, out errno))
                    {
                    }

                    return errno;
                }
            }
            finally
            {
                handle.DangerousRelease();
            }
        }

        /// <summary>
        /// <c>accept4</c> with <c>SOCK_NONBLOCK|SOCK_CLOEXEC</c>: the accepted socket is non-blocking and
        /// close-on-exec from birth. The peer's address goes to <paramref name="address"/> unless it is empty.
        /// </summary>
        public static int Accept(SafeHandle handle, Span<byte> address, out int addressLength, out FdHandle? accepted)
        {
            int fd = SocketCalls.Enter(handle);
            try
            {
                fixed (byte* pointer = address)
                {
                    while (true)
                    {
                        socklen_t length = (uint)address.Length;
                        int result = accept4(fd, (sockaddr*)pointer, address.IsEmpty ? null : &length, SocketCalls.SOCK_NONBLOCK | SocketCalls.SOCK_CLOEXEC);
                        if (result >= 0)
                        {
                            accepted = new FdHandle(result);
                            addressLength = address.IsEmpty ? 0 : Math.Min((int)(uint)length, address.Length);
                            return 0;
                        }

                        int errno = Errno.Last;
                        if (errno != SocketErrors.EINTR)
                        {
                            accepted = null;
                            addressLength = 0;
                            return errno;
                        }
                    }
                }
            }
            finally
            {
                handle.DangerousRelease();
            }
        }

        /// <summary>
        /// Finishes one attempt of a call that returns a byte count: <see langword="false"/> means it was
        /// interrupted (EINTR) and must be made again; otherwise <paramref name="errno"/> is 0 or the error
        /// and <paramref name="count"/> the bytes moved (0 on error).
        /// </summary>
        private static bool Completed(long result, out int count, out int errno)
        {
            if (result >= 0)
            {
                count = (int)result;
                errno = 0;
                return true;
            }

            count = 0;
            errno = Errno.Last;
            return errno != SocketErrors.EINTR;
        }
    }
}
