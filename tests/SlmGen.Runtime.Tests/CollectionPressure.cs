using System;
using System.Runtime.CompilerServices;
using System.Threading;

namespace SlmGen.Runtime.Tests;

/// <summary>
/// <c>SLMGEN_TEST_COLLECT=1 dotnet test tests/SlmGen.Runtime.Tests</c>: a thread collects and finalises without pause
/// for the whole run, so that a tensor or scalar whose only owner is the garbage collector, read by libtorch after its
/// handle was taken, is freed under it at once (a crash, and <c>--blame-crash</c> names the test) instead of once in
/// hundreds of runs. Off unless asked for: it slows the suite several times.
/// </summary>
internal static class CollectionPressure
{
    [ModuleInitializer]
    internal static void StartWhenAsked()
    {
        if (Environment.GetEnvironmentVariable("SLMGEN_TEST_COLLECT") != "1")
        {
            return;
        }

        new Thread(() =>
        {
            while (true)
            {
                GC.Collect();
                GC.WaitForPendingFinalizers();
            }
        })
        { IsBackground = true, Name = "collection-pressure" }.Start();
    }
}
