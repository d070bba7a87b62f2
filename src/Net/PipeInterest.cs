namespace Polling.Net;

/// <summary>
/// The one registration rule of pipe ends: the interest must include the direction the end can be ready for.
/// A read end is never writable and a write end never readable, so <see cref="Interest.Writable"/> alone on a
/// <see cref="PipeReceiver"/> (or <see cref="Interest.Readable"/> alone on a <see cref="PipeSender"/>) would
/// register a source that never reports anything but errors — it throws instead. Extra directions next to the
/// right one (<c>Readable | Writable</c>) are accepted and never fire, as in mio.
/// </summary>
internal static class PipeInterest
{
    public static void Require(Interest interest, Interest needed, object owner)
    {
        Registry.Validate(interest, Trigger.Edge);
        if ((interest & needed) == 0)
        {
            string end = needed == Interest.Readable ? "read end of a pipe: it only ever becomes readable" : "write end of a pipe: it only ever becomes writable";
            throw new ArgumentException(
                $"Cannot register {owner} for {interest}: it is the {end}, so it would never report an event. Register it with Interest.{needed}.",
                nameof(interest));
        }
    }
}
