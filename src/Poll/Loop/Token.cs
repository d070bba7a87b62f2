namespace Polling;

/// <summary>
/// Identifies a registered source in the events that <see cref="Poll.Wait"/> returns. Any 64-bit
/// value is a valid token; Polling hands it back untouched (it travels in the kernel's event record,
/// so there is no lookup per event).
/// </summary>
/// <example>
/// Tokens are usually constants, or slab indexes cast to <see cref="Token"/>:
/// <code>
/// const Token Server = (Token)0;
/// const Token Wakeup = (Token)1;
///
/// foreach (Event ev in events)
/// {
///     switch (ev.Token)
///     {
///         case Server: /* accept until TryAccept returns false */ break;
///         case Wakeup: /* drain the work queue */ break;
///         default: /* the connection at index (int)ev.Token - 2 */ break;
///     }
/// }
/// </code>
/// </example>
public enum Token : ulong
{
}
