using System.Runtime.InteropServices;
using System.Runtime.InteropServices.Marshalling;

namespace Polling.Os;

/// <summary>
/// The return-value marshaller of the per-event imports in <see cref="NativeMethods"/> (<c>recv</c>, <c>send</c>,
/// <c>epoll_wait</c>): it turns libc's "−1 and <c>errno</c>" into the kernel's own convention — the result if it is
/// ≥ 0, otherwise −<c>errno</c> — and reads <c>errno</c> only when the call failed. <see cref="Errno.SettledNegated"/>
/// decodes it.
/// </summary>
/// <remarks>
/// <para><b>Why not <c>SetLastError = true</c>.</b> Its generated code clears <c>errno</c> before every call
/// (<c>Marshal.SetLastSystemError(0)</c>), reads it after every call, failed or not (<c>GetLastSystemError</c>),
/// and copies it into the runtime's thread-local last-P/Invoke-error slot (<c>SetLastPInvokeError</c>), from which
/// <see cref="Errno.Last"/> reads it again: three runtime calls per system call, ~50 instructions each round trip
/// direction in the JIT build. Here a successful call costs one comparison.</para>
/// <para><b>Why it reads the right <c>errno</c>.</b> The source generator calls <see cref="ConvertToManaged(nint)"/>
/// in its unmarshal stage: straight after the native call returned and before its cleanup stage releases the
/// <see cref="SafeHandle"/> — the point where its own <c>SetLastError</c> code reads <c>errno</c>
/// (<c>GetLastSystemError()</c> right after <c>__PInvoke</c>). No managed code runs in between. What can run on the
/// thread there is the return transition of a call with a GC transition (it may wait for a GC to finish) and signal
/// handlers (the runtimes' GC activation signal among them); both runtimes keep <c>errno</c> across both — CoreCLR
/// since dotnet/coreclr#27099 ("GC suspension is guaranteed to not modify last error"), NativeAOT in
/// <c>Thread::WaitForGC</c> and its activation handler, each saving and restoring it — which the generator's
/// <c>SetLastError</c> code relies on just the same. The clear before the call is not needed: these functions set
/// <c>errno</c> whenever they return −1, and it is read only then.</para>
/// <para>Only for functions that return −1 on failure and a value ≥ 0 otherwise.</para>
/// </remarks>
[CustomMarshaller(typeof(nint), MarshalMode.ManagedToUnmanagedOut, typeof(ErrnoOnFailure))]
[CustomMarshaller(typeof(int), MarshalMode.ManagedToUnmanagedOut, typeof(Int32Result))]
internal static class ErrnoOnFailure
{
    /// <summary>The result as it is when ≥ 0, otherwise −<c>errno</c>.</summary>
    public static nint ConvertToManaged(nint unmanaged) => unmanaged >= 0 ? unmanaged : -Marshal.GetLastSystemError();

    /// <summary>The same for a function that returns <c>int</c>.</summary>
    public static class Int32Result
    {
        /// <summary>The result as it is when ≥ 0, otherwise −<c>errno</c>.</summary>
        public static int ConvertToManaged(int unmanaged) => unmanaged >= 0 ? unmanaged : -Marshal.GetLastSystemError();
    }
}
