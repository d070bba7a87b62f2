using Xunit;

namespace Polling.Tests.Semantics;

/// <summary>
/// Shrunk counterexamples of <see cref="ReadinessProperties"/>, replayed as fixed scripts on both backends so
/// that each stays covered whatever the generator happens to draw.
/// </summary>
public class Counterexamples
{
    /// <summary>
    /// Seed (7321688951520215675,18294799018069856417,20) of the Mixed property on epoll: a TCP peer shuts down
    /// (its FIN arrives, the edge reports it), the local end takes its (empty) pending error, then the peer closes.
    /// That close sends no segment — the FIN is already out and nothing is unread, so no RST — and the local
    /// socket is never woken: an edge registration must get no event (the model once demanded one). Reregistering
    /// re-evaluates readiness (EPOLL_CTL_MOD), so the readiness that is still there is reported then.
    /// </summary>
    [Theory]
    [InlineData(PollBackend.Epoll, Interest.Writable)]
    [InlineData(PollBackend.Poll, Interest.Writable)]
    [InlineData(PollBackend.Epoll, Interest.Readable)]
    [InlineData(PollBackend.Poll, Interest.Readable)]
    public void Tcp_peer_close_after_its_shutdown_wakes_nothing(PollBackend backend, Interest interest)
    {
        var scenario = new Scenario([SourceKind.TcpStream], 16,
        [
            new Register(0, 0, interest, Trigger.Level | Trigger.Oneshot),
            new PeerShutdown(0),
            new Reregister(0, 0xEB55E889A97E5EAC, interest, Trigger.Edge),
            new Wait(0),
            new TakeError(0),
            new PeerClose(0),
            new Wait(0),
            new Reregister(0, 0xEB55E889A97E5EAC, interest, Trigger.Edge),
            new Wait(0),
        ]);

        Violation? violation = ScenarioRunner.Run(scenario, backend);

        Assert.True(violation is null, violation?.ToString());
    }
}
