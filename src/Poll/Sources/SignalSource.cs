using System.Collections.ObjectModel;
using System.Runtime.InteropServices;

namespace Polling;

/// <summary>
/// POSIX signals — SIGINT, SIGTERM, SIGHUP, SIGUSR1… — as events, so a server learns of Ctrl-C, a
/// <c>kill</c> or a reload request in its loop like any other readiness, and can shut down cleanly from there.
/// Register it; on its event call <see cref="TryRead"/> until it returns <see langword="false"/>.
/// </summary>
/// <remarks>
/// <para><b>How it works, and why not <c>signalfd</c>.</b> Each signal is caught with .NET's own
/// <see cref="PosixSignalRegistration"/>; its handler counts the signal and wakes the loop through an eventfd
/// (coalesced like a <see cref="ChannelSource{T}"/>). <c>signalfd</c> only receives a signal that is blocked in
/// <i>every</i> thread of the process, and the runtime starts its threads (GC, finalizer, thread pool, its
/// signal-handling thread) before <c>Main</c> with the signals unblocked. Blocking a signal on the loop thread
/// with <c>pthread_sigmask</c> therefore does not work: measured on .NET 10, a <c>kill -USR1</c> or
/// <c>kill -HUP</c> sent to such a process went to another thread and killed the process (the default action)
/// without reaching the signalfd, and of three <c>kill -TERM</c> one reached the signalfd and the next was
/// taken by the runtime, which terminated the process. <see cref="PosixSignalRegistration"/> coexists with the
/// runtime's handling, works for named signals and for raw signal numbers (<c>(PosixSignal)10</c> is SIGUSR1),
/// and can cancel the default action.</para>
/// <para><b>Default action.</b> While the source is registered with a <see cref="Poll"/> that is not disposed,
/// a caught signal becomes an event and its default action is cancelled (SIGTERM and SIGINT no longer end the
/// process: your loop decides). While it is not registered — before <c>Register</c>, after <c>Deregister</c> —
/// signals take their default action, so a program whose loop is gone still dies on Ctrl-C. Disposing the
/// source removes its handlers and restores the default for good.</para>
/// <para><b>Delivery.</b> The handler runs on a runtime thread shortly after the signal (the thread pool for
/// most signals, a dedicated thread for SIGINT, SIGQUIT and SIGTERM). Each caught delivery is counted and
/// <see cref="TryRead"/> returns it once; the kernel itself merges a signal that arrives again before it was
/// handled. Several sources may watch the same signal: each gets every delivery.</para>
/// <para><b>Readiness.</b> Readable while deliveries are unread. Only <see cref="Interest.Readable"/> may be
/// registered; Edge, Level and Oneshot behave as for a channel source.</para>
/// <para><b>Errors.</b> After <see cref="Dispose"/> every member throws <see cref="ObjectDisposedException"/>; a call the
/// kernel refuses throws <see cref="IOException"/> whose <see cref="Exception.HResult"/> is the errno, with a message
/// naming the call and the source. Members list only the exceptions particular to them.</para>
/// </remarks>
/// <example>
/// <code>
/// const Token Signals = (Token)0;
/// using var signals = new SignalSource(PosixSignal.SIGINT, PosixSignal.SIGTERM, PosixSignal.SIGHUP);
/// poll.Registry.Register(signals, Signals, Interest.Readable);
/// bool running = true;
/// while (running)
/// {
///     poll.Wait(events);
///     foreach (Event ev in events)
///     {
///         if (ev.Token != Signals) continue;
///         while (signals.TryRead(out PosixSignal signal))
///         {
///             if (signal == PosixSignal.SIGHUP) Console.WriteLine("reload the configuration");
///             else running = false;   // SIGINT or SIGTERM: stop accepting, finish, exit 0
///         }
///     }
/// }
/// </code>
/// </example>
public sealed class SignalSource : ISource, IDisposable
{
    private readonly PosixSignal[] _signals;
    private readonly int[] _pending;
    private readonly PosixSignalRegistration[] _registrations;
    private readonly Notifier _notifier;

    /// <summary>
    /// Starts catching <paramref name="signals"/> (duplicates are ignored, also a named signal given again as its
    /// number, e.g. <c>PosixSignal.SIGWINCH</c> and <c>(PosixSignal)28</c>: <see cref="Signals"/> keeps the first form). Until the source is registered,
    /// the signals keep their default action.
    /// </summary>
    /// <param name="signals">One or more signals: named <see cref="PosixSignal"/> values, or raw Linux signal numbers cast to <see cref="PosixSignal"/>.</param>
    /// <exception cref="ArgumentException"><paramref name="signals"/> is empty, or holds a signal that cannot be caught
    /// (SIGKILL, SIGSTOP, or a number that is not a signal); nothing is caught then.</exception>
    /// <exception cref="IOException">The kernel refused to create the eventfd.</exception>
    public SignalSource(params ReadOnlySpan<PosixSignal> signals)
    {
        if (signals.IsEmpty)
        {
            throw new ArgumentException(
                "A SignalSource needs at least one signal to watch, e.g. new SignalSource(PosixSignal.SIGINT, PosixSignal.SIGTERM).", nameof(signals));
        }

        // The same signal can be given two ways — PosixSignal.SIGWINCH and (PosixSignal)28 — and catching it twice
        // would report each delivery twice: compare Linux signal numbers, keep the form given first.
        var distinct = new List<PosixSignal>(signals.Length);
        var numbers = new List<int>(signals.Length);
        foreach (PosixSignal signal in signals)
        {
            int number = LinuxNumber(signal);
            if (!numbers.Contains(number))
            {
                numbers.Add(number);
                distinct.Add(signal);
            }
        }

        _signals = distinct.ToArray();
        Signals = new ReadOnlyCollection<PosixSignal>(_signals);
        _pending = new int[_signals.Length];
        _registrations = new PosixSignalRegistration[_signals.Length];
        _notifier = new Notifier(this);
        int created = 0;
        try
        {
            for (; created < _signals.Length; created++)
            {
                int index = created;
                _registrations[index] = Catch(_signals[index], context => OnSignal(context, index));
            }
        }
        catch
        {
            for (int i = 0; i < created; i++)
            {
                _registrations[i].Dispose();
            }

            _notifier.Dispose();
            throw;
        }
    }

    /// <summary>The signals this source watches, without duplicates.</summary>
    public IReadOnlyList<PosixSignal> Signals { get; }

    /// <summary>The eventfd, for tests that check Dispose closed it.</summary>
    internal Polling.Os.FdHandle Handle => _notifier.Handle;

    /// <summary>
    /// Takes one unread signal delivery. Returns <see langword="false"/> when there is none; a signal caught
    /// after that always produces a new event. Allocates nothing; call it on the loop thread.
    /// </summary>
    /// <param name="signal">The signal, as it was given to the constructor.</param>
    public bool TryRead(out PosixSignal signal)
    {
        _notifier.ThrowIfDisposed("read from");
        if (TryTake(out signal))
        {
            return true;
        }

        // The notification protocol of ChannelSource (see Notifier).
        if (_notifier.TryTakeWhenEmpty(new Pending(this), out signal))
        {
            return true;
        }

        _notifier.Rearm();
        return false;
    }

    /// <summary>Removes the signal handlers (restoring the default actions), deregisters and closes the eventfd. Idempotent.</summary>
    public void Dispose()
    {
        if (_notifier.IsDisposed)
        {
            return;
        }

        foreach (PosixSignalRegistration registration in _registrations)
        {
            registration.Dispose();
        }

        _notifier.Dispose();
    }

    /// <summary>Returns e.g. <c>SignalSource(SIGINT, SIGTERM)</c>.</summary>
    public override string ToString() => $"SignalSource({string.Join(", ", _signals)})";

    void ISource.Register(Registry registry, Token token, Interest interest, Trigger trigger) =>
        _notifier.Register(registry, token, interest, trigger);

    void ISource.Reregister(Registry registry, Token token, Interest interest, Trigger trigger) =>
        _notifier.Reregister(registry, token, interest, trigger);

    void ISource.Deregister(Registry registry) => _notifier.Deregister(registry);

    /// <summary>The Linux signal number of a named <see cref="PosixSignal"/> (negative values); raw numbers are themselves.</summary>
#pragma warning disable CA1416 // enum constants only, compared, never passed to a platform API (see Os/LinuxOnly.cs)
    private static int LinuxNumber(PosixSignal signal) => signal switch
    {
        PosixSignal.SIGHUP => 1,
        PosixSignal.SIGINT => 2,
        PosixSignal.SIGQUIT => 3,
        PosixSignal.SIGTERM => 15,
        PosixSignal.SIGCHLD => 17,
        PosixSignal.SIGCONT => 18,
        PosixSignal.SIGTSTP => 20,
        PosixSignal.SIGTTIN => 21,
        PosixSignal.SIGTTOU => 22,
        PosixSignal.SIGWINCH => 28,
        _ => (int)signal,
    };
#pragma warning restore CA1416

    private static PosixSignalRegistration Catch(PosixSignal signal, Action<PosixSignalContext> handler)
    {
        try
        {
            return PosixSignalRegistration.Create(signal, handler);
        }
        catch (Exception e) when (e is IOException or PlatformNotSupportedException)
        {
            throw new ArgumentException(
                $"Signal {signal} ({(int)signal}) cannot be caught: {e.Message}. SIGKILL (9) and SIGSTOP (19) never can; " +
                "give a named PosixSignal or a Linux signal number from 1 to 64 cast to PosixSignal.", "signals", e);
        }
    }

    private void OnSignal(PosixSignalContext context, int index)
    {
        if (!_notifier.IsRegistered || _notifier.IsDisposed)
        {
            // No loop is listening: leave the signal to its default action.
            return;
        }

        context.Cancel = true;
        Interlocked.Increment(ref _pending[index]);
        _notifier.Notify();
    }

    /// <summary>The pending deliveries as the notifier's data.</summary>
    private readonly struct Pending(SignalSource owner) : Notifier.IPending<PosixSignal>
    {
        public bool TryTake(out PosixSignal item) => owner.TryTake(out item);
    }

    private bool TryTake(out PosixSignal signal)
    {
        for (int i = 0; i < _pending.Length; i++)
        {
            int count = Volatile.Read(ref _pending[i]);
            while (count > 0)
            {
                int seen = Interlocked.CompareExchange(ref _pending[i], count - 1, count);
                if (seen == count)
                {
                    signal = _signals[i];
                    return true;
                }

                count = seen;
            }
        }

        signal = default;
        return false;
    }
}
