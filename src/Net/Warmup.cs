using System.Diagnostics.CodeAnalysis;
using System.Reflection;
using System.Runtime.CompilerServices;

namespace Polling.Net;

/// <summary>
/// Prepares a server's code while descriptors are plentiful. The runtime compiles a method the first time it
/// runs and loads the assemblies it references then — which needs a file descriptor. A branch that first runs
/// when the process is out of descriptors (the first reset, the first shutdown, the first idle close after a
/// burst of connections) would fail with <see cref="FileNotFoundException"/> ("Could not load file or assembly").
/// Call <see cref="PrepareMethods"/> on your server type at startup so that every method is compiled and
/// every assembly it references is loaded up front.
/// </summary>
/// <remarks>
/// Generic methods and methods of generic types are skipped (they can only be prepared per instantiation).
/// Under Native AOT everything is compiled ahead of time and this does nothing. <see cref="AcceptLoop"/>
/// prepares its own error path; this is for the code around it.
/// </remarks>
/// <example>
/// <code>
/// sealed class EchoServer
/// {
///     public EchoServer(IPEndPoint endpoint)
///     {
///         Warmup.PrepareMethods(typeof(EchoServer));   // before the first client can exhaust the descriptors
///         // … bind the listener, create the Poll …
///     }
/// }
/// </code>
/// </example>
public static class Warmup
{
    private const BindingFlags Declared = BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance
        | BindingFlags.Static | BindingFlags.DeclaredOnly;

    /// <summary>Compiles every non-generic method and constructor of <paramref name="type"/> and of its nested types now.</summary>
    /// <param name="type">The server's type (e.g. <c>typeof(MyServer)</c>).</param>
    /// <exception cref="ArgumentNullException"><paramref name="type"/> is null.</exception>
    public static void PrepareMethods(
        [DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.All)] Type type)
    {
        ArgumentNullException.ThrowIfNull(type);
        if (!RuntimeFeature.IsDynamicCodeCompiled || type.ContainsGenericParameters)   // NativeAOT: everything is compiled already
        {
            return;
        }

        foreach (MethodInfo method in type.GetMethods(Declared))
        {
            if (!method.ContainsGenericParameters && HasBody(method))
            {
                RuntimeHelpers.PrepareMethod(method.MethodHandle);
            }
        }

        foreach (ConstructorInfo constructor in type.GetConstructors(Declared))
        {
            if (HasBody(constructor))
            {
                RuntimeHelpers.PrepareMethod(constructor.MethodHandle);
            }
        }

#pragma warning disable IL2072 // nested types of a type whose members are all kept are kept too
        foreach (Type nested in type.GetNestedTypes(Declared))
        {
            PrepareMethods(nested);
        }
#pragma warning restore IL2072
    }

    /// <summary>Whether the method has IL to compile (not abstract, not extern, not a P/Invoke or runtime-implemented).</summary>
    private static bool HasBody(MethodBase method) =>
        !method.IsAbstract
        && (method.Attributes & MethodAttributes.PinvokeImpl) == 0
        && (method.MethodImplementationFlags & (MethodImplAttributes.InternalCall | MethodImplAttributes.Runtime)) == 0;
}
