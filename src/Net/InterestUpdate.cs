namespace Polling.Net;

/// <summary>
/// What <see cref="OutputQueue.UpdateInterest"/> did, and what it asks of the caller: nothing
/// (<see cref="Unchanged"/>, <see cref="Reregistered"/>) or to close the connection (<see cref="Close"/>).
/// </summary>
/// <remarks>
/// The two "nothing reregistered" outcomes used to share one <see langword="false"/>; they mean opposite things.
/// <see cref="Unchanged"/> is the common case of a connection that goes on (the registration already fits, no
/// system call was made); <see cref="Close"/> is the end of one — nothing waits to be written and nothing more
/// is to be read (the peer sent end of stream, or the server is done with it), so no event would ever come for it
/// again and it must be closed now or it leaks.
/// </remarks>
/// <example>
/// <code>
/// // at the end of handling an event for a connection:
/// if (output.UpdateInterest(poll.Registry, stream, token, reading: !peerDone) == InterestUpdate.Close)
/// {
///     stream.Dispose();             // written out and nothing more to read: close the connection
/// }
/// </code>
/// </example>
public enum InterestUpdate
{
    /// <summary>The registration already matched what the queue needs: nothing was changed, no system call made.</summary>
    Unchanged,

    /// <summary>The stream was reregistered with the interest it now needs (see <see cref="OutputQueue.RegisteredInterest"/>).</summary>
    Reregistered,

    /// <summary>
    /// The connection needs neither direction any more: nothing waits to be written and the caller said reading is
    /// over. The registration was left as it was; close the connection (no further event will come for it).
    /// </summary>
    Close,
}
