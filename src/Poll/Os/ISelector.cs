namespace Polling.Os;

/// <summary>
/// The seam between the public event loop and one kernel readiness mechanism
/// (<see cref="EpollSelector"/>, <see cref="PollSelector"/>).
/// Registration methods are called from any thread and return 0 or an errno, so that
/// <see cref="Registry"/> can turn the errno into the exception the contract names.
/// </summary>
internal interface ISelector : IDisposable
{
    /// <summary>
    /// Adds <paramref name="fd"/>. <paramref name="rearmsOnWouldBlock"/> says whether the source calls
    /// <see cref="Rearm"/> whenever an I/O call returns would-block (Polling's own sources do; a
    /// <see cref="SourceFd"/> cannot), which a backend that emulates edge triggering needs to know.
    /// </summary>
    int Register(int fd, Token token, Interest interest, Trigger trigger, bool rearmsOnWouldBlock);

    /// <summary>Changes the registration of <paramref name="fd"/> and re-evaluates its readiness (rearms it).</summary>
    int Reregister(int fd, Token token, Interest interest, Trigger trigger, bool rearmsOnWouldBlock);

    int Deregister(int fd);

    /// <summary>Waits up to <paramref name="timeoutMilliseconds"/> (-1 forever, 0 not at all) and fills
    /// <paramref name="events"/>; an interrupted wait returns 0. Throws <see cref="IOException"/> otherwise.</summary>
    int Select(Events events, int timeoutMilliseconds);

    /// <summary>
    /// An I/O call on <paramref name="fd"/> returned would-block for <paramref name="interest"/>. Backends
    /// that emulate edge triggering rearm the interest here; epoll ignores it.
    /// </summary>
    void Rearm(int fd, Interest interest);

    /// <summary>Makes a <see cref="Select"/> blocked on another thread return soon; used by <c>Poll.Dispose</c>.</summary>
    void Interrupt();
}
