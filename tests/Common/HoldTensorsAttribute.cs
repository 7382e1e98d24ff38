using System;
using System.Linq;
using System.Reflection;
using System.Runtime.CompilerServices;
using TorchSharp;
using Xunit.Sdk;

namespace SlmGen.Tests;

/// <summary>
/// Holds every tensor a test makes on its thread in a dispose scope until the test ends, then hands them back to the
/// garbage collector as they were (detached, not disposed: a test may keep a tensor in a static cache).
/// </summary>
/// <remarks>
/// The generator's tests run in parallel with Roslyn compilations that allocate on other threads, and any test's own
/// allocations start collections, so a finaliser can run at any moment; a temporary a test makes outside a scope — <c>(a - b).abs().max()</c> — could be finalised while libtorch
/// still reads it (docs/backends.md, "Tensors have the same race"). The runtime holds its own temporaries; this holds
/// the tests'. Sync tests only: before, the test and after run on one thread.
/// </remarks>
[AttributeUsage(AttributeTargets.Class | AttributeTargets.Method)]
internal sealed class HoldTensorsAttribute : BeforeAfterTestAttribute
{
    [ThreadStatic]
    private static DisposeScope? held;

    public override void Before(MethodInfo methodUnderTest)
    {
        // SlmGen.Runtime's module initializer first: it readies libLibTorchSharp.so beside the tests (NativeSetup),
        // which must happen before TorchSharp's first use loads it.
        RuntimeHelpers.RunModuleConstructor(typeof(SlmGen.SlmModel).Module.ModuleHandle);
        held ??= torch.NewDisposeScope();
    }

    public override void After(MethodInfo methodUnderTest)
    {
        if (held is { } scope)
        {
            held = null;
            scope.Detach(scope.DisposablesView.ToArray());
            scope.Dispose();
        }
    }
}
