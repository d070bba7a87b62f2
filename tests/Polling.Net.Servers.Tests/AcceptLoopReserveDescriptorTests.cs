using static Polling.Net.Servers.Tests.Helpers;

namespace Polling.Net.Servers.Tests;

/// <summary>
/// The reserve descriptor (an open /dev/null), found by identity among this process's descriptors. In the
/// DescriptorCounting collection: run in parallel with ServerLoopTests, whose AcceptLoops open and close reserve
/// descriptors of their own, a count of /dev/null descriptors is a race.
/// </summary>
[Collection(nameof(DescriptorCountingCollection))]
public class AcceptLoopReserveDescriptorTests
{
    private const Token Listener = (Token)0;
    private const Token Retry = (Token)1;

    [Fact]
    public void The_reserve_descriptor_is_closed_on_dispose()
    {
        HashSet<string> before = DevNulls();
        string reserve;
        using (var poll = new Poll())
        using (new AcceptLoop(poll.Registry, TcpListener.Bind(LoopbackAny), Listener, Retry))
        {
            reserve = Assert.Single(DevNulls().Except(before));
        }

        Assert.DoesNotContain(reserve, DevNulls());

        // "7" for every descriptor open on /dev/null (the numbers are compared: a closed one may be reused by another file).
        static HashSet<string> DevNulls() => Directory.GetFileSystemEntries("/proc/self/fd").Where(IsDevNull).Select(Path.GetFileName).OfType<string>().ToHashSet();

        static bool IsDevNull(string fd)
        {
            try
            {
                return new FileInfo(fd).LinkTarget == "/dev/null";
            }
            catch (IOException)
            {
                return false;
            }
        }
    }
}
