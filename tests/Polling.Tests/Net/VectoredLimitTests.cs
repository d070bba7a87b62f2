using Polling.Net;
using Polling.Net.Os;
using Polling.Os;
using Xunit;
using static Tmds.Linux.LibC;

namespace Polling.Tests.Net;

/// <summary>
/// Vectored I/O beyond what one system call can take: at most 1024 non-empty segments and
/// <see cref="int.MaxValue"/> bytes are offered per call, and the count returned says exactly how far it
/// got (a partial count, never a silent truncation or an overflowed <see langword="int"/>).
/// </summary>
public class VectoredLimitTests
{
    [Fact]
    public void More_than_IOV_MAX_segments_move_the_first_1024_non_empty_ones_and_say_so()
    {
        (UnixStream a, UnixStream b) = UnixStream.Pair();
        using (a)
        using (b)
        {
            byte[] data = new byte[2000];
            var segments = new ArraySegment<byte>[4000];
            for (int i = 0; i < 2000; i++)
            {
                data[i] = (byte)i;
                segments[2 * i] = ArraySegment<byte>.Empty;           // empties do not count against the 1024
                segments[(2 * i) + 1] = new ArraySegment<byte>(data, i, 1);
            }

            Assert.True(a.TryWrite(segments, out int written));
            Assert.Equal(1024, written);
            byte[] received = NetHelpers.ReadExactly(b, 1024);
            Assert.Equal(data[..1024], received);
            Assert.False(b.TryRead(new byte[16], out _));              // nothing beyond the count was sent
        }
    }

    [Fact]
    public void More_than_2_GiB_in_one_call_is_capped_and_the_partial_count_fits_an_int()
    {
        // /dev/null takes everything without touching the pages, so three views of one uncommitted 1 GiB array
        // (3 GiB in total) cost no memory. Polling offers at most int.MaxValue bytes; the kernel takes at most
        // MAX_RW_COUNT (2 GiB - 4 KiB) and the count says so.
        byte[] gigabyte = GC.AllocateUninitializedArray<byte>(1 << 30);
        ArraySegment<byte>[] segments = [gigabyte, gigabyte, gigabyte];
        int fd = OpenDevNull();
        var core = new IoSource(new FdHandle(fd));
        try
        {
            Assert.True(core.TryVectored(VectorCall.Write, segments, out int written, "write to", "/dev/null"));
            Assert.InRange(written, 1, int.MaxValue);
            Assert.Equal(0x7FFFF000, written);
        }
        finally
        {
            core.Close();
        }
    }

    private static unsafe int OpenDevNull()
    {
        fixed (byte* path = "/dev/null\0"u8)
        {
            int fd = open(path, O_WRONLY | O_CLOEXEC);
            Assert.True(fd >= 0);
            return fd;
        }
    }
}
