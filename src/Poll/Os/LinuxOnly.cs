using System.Runtime.InteropServices;

namespace Polling.Os;

/// <summary>
/// Polling's platform rule in one place. The assemblies carry no <c>[SupportedOSPlatform("linux")]</c> (which
/// would make every call site of a Linux-only application raise CA1416); instead each operating-system
/// resource is created through a method that calls <see cref="Check()"/> first, so on another system the first
/// use throws <see cref="PlatformNotSupportedException"/> with a message that says why — before any system call.
/// </summary>
internal static class LinuxOnly
{
    /// <summary>Throws <see cref="PlatformNotSupportedException"/> unless the process runs on Linux.</summary>
    public static void Check()
    {
        if (!OperatingSystem.IsLinux())
        {
            throw NotSupported(RuntimeInformation.OSDescription);
        }
    }

    /// <summary>The exception for a process running on <paramref name="system"/>.</summary>
    public static PlatformNotSupportedException NotSupported(string system) => new(
        $"Polling runs on Linux only (it is built on epoll, eventfd, timerfd and Linux socket flags), but this process runs on {system}. "
        + "On other systems use System.Net.Sockets.Socket with async/await, or run this program on Linux (a container or WSL).");
}
