using System.Diagnostics;

namespace Polling.TestSupport;

/// <summary>Ends a test's child process without leaving its descriptors behind.</summary>
internal static class ProcessCleanup
{
    /// <summary>Kills <paramref name="process"/> if it still runs, waits for it, then <see cref="DisposeWithStreams"/>.</summary>
    public static void KillAndDispose(this Process process)
    {
        if (!process.HasExited)
        {
            process.Kill();
            process.WaitForExit();
        }

        process.DisposeWithStreams();
    }

    /// <summary>
    /// Disposes the process and its redirected streams: Process.Dispose leaves open a stream the caller touched, and its
    /// pipe would wait for the finalizer — to be closed under some later test's descriptor count.
    /// </summary>
    public static void DisposeWithStreams(this Process process)
    {
        if (process.StartInfo.RedirectStandardInput)
        {
            process.StandardInput.Dispose();
        }

        if (process.StartInfo.RedirectStandardOutput)
        {
            process.StandardOutput.Dispose();
        }

        if (process.StartInfo.RedirectStandardError)
        {
            process.StandardError.Dispose();
        }

        process.Dispose();
    }
}
