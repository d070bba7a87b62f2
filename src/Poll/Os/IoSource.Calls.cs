using System.Runtime.InteropServices;
using static Polling.Os.NativeMethods;

namespace Polling;

/// <content>
/// The byte-moving system calls on any descriptor, private to <see cref="IoSource"/>: a source cannot make one
/// without passing its errno through <see cref="IoSource.Completed"/>. The marshaller holds the handle for the
/// call; each retries EINTR and returns 0 or the errno.
/// </content>
internal partial struct IoSource
{
    private static unsafe class Calls
    {
        public static int Read(SafeHandle handle, Span<byte> buffer, out int count)
        {
            fixed (byte* pointer = buffer)
            {
                int errno;
                while (!Os.Errno.Settled(read(handle, pointer, (nuint)buffer.Length), out count, out errno))
                {
                }

                return errno;
            }
        }

        public static int Write(SafeHandle handle, ReadOnlySpan<byte> buffer, out int count)
        {
            fixed (byte* pointer = buffer)
            {
                int errno;
                while (!Os.Errno.Settled(write(handle, pointer, (nuint)buffer.Length), out count, out errno))
                {
                }

                return errno;
            }
        }
    }
}
