using Polling.Os;

namespace Polling.Tests.Semantics;

/// <summary>
/// An eventfd as a source, built the way Polling.Net builds its sources (an owned descriptor plus a
/// <see cref="Registration"/>, rearming on would-block), or — with <c>rawFd: true</c> — registered as a
/// plain <see cref="SourceFd"/> that cannot report would-block. Polling.Net has no eventfd type; the
/// properties need one because an eventfd is readable and writable by counter, which exercises both
/// directions without a peer.
/// </summary>
internal sealed class EventFdSource : ISource, IDisposable
{
    /// <summary>The largest counter value; writing past it would block.</summary>
    public const ulong MaxCounter = ulong.MaxValue - 1;

    private readonly bool _rawFd;
    private Registration _registration;

    public EventFdSource(bool rawFd)
    {
        _rawFd = rawFd;
        Handle = EventFd.Create();
    }

    public FdHandle Handle { get; }

    /// <summary>Adds to the counter as an outsider would (no rearm: the event loop did not do this I/O).</summary>
    public bool PeerAdd(ulong value) => EventFd.TryWrite(Handle, value) == 0;

    /// <summary>Reads (and resets) the counter; <see langword="false"/> on would-block.</summary>
    public bool TryRead(out ulong value)
    {
        int errno = EventFd.TryRead(Handle, out value);
        if (errno == Errno.EAGAIN)
        {
            Rearm(Interest.Readable);
            return false;
        }

        return errno == 0 ? true : throw Errno.ToIOException(errno, "read from the test eventfd");
    }

    /// <summary>Adds to the counter; <see langword="false"/> on would-block (the counter would pass <see cref="MaxCounter"/>).</summary>
    public bool TryWrite(ulong value)
    {
        int errno = EventFd.TryWrite(Handle, value);
        if (errno == Errno.EAGAIN)
        {
            Rearm(Interest.Writable);
            return false;
        }

        return errno == 0 ? true : throw Errno.ToIOException(errno, "write to the test eventfd");
    }

    public void Register(Registry registry, Token token, Interest interest, Trigger trigger)
    {
        if (_rawFd)
        {
            new SourceFd(Handle.Fd).Register(registry, token, interest, trigger);
        }
        else
        {
            _registration.Register(registry, Handle.Fd, token, interest, trigger, this);
        }
    }

    public void Reregister(Registry registry, Token token, Interest interest, Trigger trigger)
    {
        if (_rawFd)
        {
            new SourceFd(Handle.Fd).Reregister(registry, token, interest, trigger);
        }
        else
        {
            _registration.Reregister(registry, Handle.Fd, token, interest, trigger, this);
        }
    }

    public void Deregister(Registry registry)
    {
        if (_rawFd)
        {
            new SourceFd(Handle.Fd).Deregister(registry);
        }
        else
        {
            _registration.Deregister(registry, Handle.Fd, this);
        }
    }

    public void Dispose()
    {
        _registration.OnClose(Handle.Fd);
        Handle.Dispose();
    }

    public override string ToString() => _rawFd ? $"SourceFd(eventfd {Handle.Fd})" : $"EventFdSource({Handle.Fd})";

    private void Rearm(Interest interest)
    {
        if (!_rawFd)
        {
            _registration.Rearm(Handle.Fd, interest);
        }
    }
}
