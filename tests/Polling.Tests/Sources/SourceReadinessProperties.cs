using FsCheck;
using FsCheck.Fluent;
using Polling.Tests.Semantics;
using Xunit;

namespace Polling.Tests.Sources;

/// <summary>
/// The readiness properties of <see cref="ReadinessProperties"/>, on scenarios made only of the in-memory
/// and timer sources (channel, timer, timer wheel), so they get the full budget of generated sequences:
/// no lost event, Level repeats while ready, Edge does not repeat without new readiness, Oneshot is silent
/// until reregistered, deregistered and disposed sources are silent — on epoll and on poll(2).
/// </summary>
public class SourceReadinessProperties
{
    private static readonly SourceKind[] Kinds = [SourceKind.Channel, SourceKind.Timer, SourceKind.TimerWheel];

    [Theory]
    [InlineData(TriggerFamily.Edge, PollBackend.Epoll)]
    [InlineData(TriggerFamily.Edge, PollBackend.Poll)]
    [InlineData(TriggerFamily.Level, PollBackend.Epoll)]
    [InlineData(TriggerFamily.Level, PollBackend.Poll)]
    [InlineData(TriggerFamily.Oneshot, PollBackend.Epoll)]
    [InlineData(TriggerFamily.Oneshot, PollBackend.Poll)]
    [InlineData(TriggerFamily.Mixed, PollBackend.Epoll)]
    [InlineData(TriggerFamily.Mixed, PollBackend.Poll)]
    public void Channel_timer_and_wheel_sources_follow_the_readiness_rules(TriggerFamily family, PollBackend backend) =>
        Check.One(
            ReadinessProperties.Configuration(),
            Prop.ForAll(Scenarios.Arbitrary(family, Kinds), scenario =>
            {
                Violation? violation = ScenarioRunner.Run(scenario, backend);
                return Prop.Label(violation is null, violation?.ToString() ?? string.Empty);
            }));

    /// <summary>
    /// Channel sources alone, so producers racing the loop's drain (<see cref="ConcurrentPeerWrites"/>) come up in
    /// most sequences: every message written after the loop's last "empty" must be announced — issue 9's lost
    /// wake-up, which the Notifier protocol before its fix failed.
    /// </summary>
    [Theory]
    [InlineData(TriggerFamily.Edge, PollBackend.Epoll)]
    [InlineData(TriggerFamily.Edge, PollBackend.Poll)]
    [InlineData(TriggerFamily.Level, PollBackend.Epoll)]
    [InlineData(TriggerFamily.Level, PollBackend.Poll)]
    public void Channel_sources_with_racing_producers_never_lose_a_wake_up(TriggerFamily family, PollBackend backend) =>
        Check.One(
            ReadinessProperties.Configuration(),
            Prop.ForAll(Scenarios.Arbitrary(family, [SourceKind.Channel]), scenario =>
            {
                Violation? violation = ScenarioRunner.Run(scenario, backend);
                return Prop.Label(violation is null, violation?.ToString() ?? string.Empty);
            }));
}
