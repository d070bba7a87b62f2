using System.Runtime.InteropServices;
using Tmds.Linux;
using static Polling.Os.NativeMethods;

namespace Polling.Os;

/// <summary>How a vectored call moves bytes.</summary>
internal enum VectorCall
{
    /// <summary><c>recvmsg</c> (sockets).</summary>
    Receive,

    /// <summary><c>sendmsg</c> with <c>MSG_NOSIGNAL</c> (sockets).</summary>
    Send,

    /// <summary><c>readv</c> (any descriptor).</summary>
    Read,

    /// <summary><c>writev</c> (any descriptor).</summary>
    Write,
}

/// <summary>Scatter/gather I/O over array segments, for <see cref="IoSource"/> and Polling.Net's socket core.</summary>
internal static unsafe class IoVectors
{
    /// <summary>The kernel's limit on buffers per <c>readv</c>/<c>writev</c>/<c>sendmsg</c> (<c>IOV_MAX</c>).</summary>
    public const int Max = 1024;

    /// <summary>Whether <paramref name="kind"/> reads (Readable) rather than writes (Writable).</summary>
    public static bool IsRead(this VectorCall kind) => kind is VectorCall.Receive or VectorCall.Read;

    /// <summary>
    /// One system call over the non-empty segments of <paramref name="buffers"/>, at most <see cref="Max"/> of them
    /// and at most <see cref="int.MaxValue"/> bytes in total (the last segment used is shortened to fit): the kernel
    /// refuses more segments, and the <c>Try…</c> overloads return an <see langword="int"/>. What does not fit is not
    /// transferred by this call — the count says how far it got, as after any partial read or write. Null and empty
    /// segments are skipped. No managed allocation (the arrays are pinned with <see cref="GCHandle"/>s for the
    /// call). Retries EINTR; returns 0 or the errno.
    /// </summary>
    public static int Transfer(SafeHandle handle, VectorCall kind, ReadOnlySpan<ArraySegment<byte>> buffers, out long transferred)
    {
        int capacity = Math.Min(buffers.Length, Max);
        iovec* vectors = stackalloc iovec[capacity];
        GCHandle* pins = stackalloc GCHandle[capacity];
        int used = 0;
        long total = 0;
        try
        {
            for (int i = 0; i < buffers.Length && used < capacity && total < int.MaxValue; i++)
            {
                ArraySegment<byte> segment = buffers[i];
                if (segment.Array is not { } array || segment.Count == 0)
                {
                    continue;
                }

                int length = (int)Math.Min(segment.Count, int.MaxValue - total);
                pins[used] = GCHandle.Alloc(array, GCHandleType.Pinned);
                vectors[used].iov_base = (byte*)pins[used].AddrOfPinnedObject() + segment.Offset;
                vectors[used].iov_len = length;
                total += length;
                used++;
            }

            msghdr message = default;
            message.msg_iov = vectors;
            message.msg_iovlen = used;
            while (true)
            {
                long result = kind switch
                {
                    VectorCall.Receive => recvmsg(handle, &message, 0),
                    VectorCall.Send => sendmsg(handle, &message, LibC.MSG_NOSIGNAL),
                    VectorCall.Read => readv(handle, vectors, used),
                    _ => writev(handle, vectors, used),
                };
                if (result >= 0)
                {
                    transferred = result;
                    return 0;
                }

                int errno = Errno.Last;
                if (errno != Errno.EINTR)
                {
                    transferred = 0;
                    return errno;
                }
            }
        }
        finally
        {
            for (int i = 0; i < used; i++)
            {
                pins[i].Free();
            }
        }
    }
}
