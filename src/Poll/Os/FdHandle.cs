using Microsoft.Win32.SafeHandles;
using Tmds.Linux;

namespace Polling.Os;

/// <summary>
/// Owns one file descriptor and closes it exactly once. Every descriptor Polling creates lives in
/// one of these, so a call racing with <c>Dispose</c> never touches a reused descriptor number.
/// </summary>
internal sealed class FdHandle : SafeHandleMinusOneIsInvalid
{
    public FdHandle(int fd)
        : base(ownsHandle: true)
    {
        SetHandle(fd);
    }

    /// <summary>The descriptor number (valid while the handle is open).</summary>
    public int Fd => (int)handle;

    protected override bool ReleaseHandle() => LibC.close((int)handle) == 0;
}
