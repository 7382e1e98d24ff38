using System;
using System.IO;
using System.Runtime.CompilerServices;

namespace SlmGen.Native;

/// <summary>
/// Start-up fallback for the build-time patch of libLibTorchSharp.so (see <see cref="ElfVersionNeedPatcher"/>):
/// when SlmGen.Runtime loads and finds an unpatched copy beside the application, it patches it before
/// TorchSharp's first use. The build (SlmGen.targets) normally has done this already.
/// </summary>
internal static class NativeSetup
{
#pragma warning disable CA2255 // a library module initializer is the point here: it must run before TorchSharp loads
    [ModuleInitializer]
#pragma warning restore CA2255
    internal static void Initialize()
    {
        if (!OperatingSystem.IsLinux())
        {
            return;
        }

        var baseDir = AppContext.BaseDirectory;
        foreach (var path in new[]
                 {
                     Path.Combine(baseDir, "libLibTorchSharp.so"),
                     Path.Combine(baseDir, "runtimes", "linux-x64", "native", "libLibTorchSharp.so"),
                 })
        {
            try
            {
                if (File.Exists(path) && ElfVersionNeedPatcher.Inspect(path) == ElfVersionNeedPatcher.State.NeedsPatch)
                {
                    ElfVersionNeedPatcher.Patch(path);
                }
            }
            catch (IOException)
            {
                // Read-only install: the loader will report the missing version; docs/backends.md explains.
            }
            catch (UnauthorizedAccessException)
            {
            }
        }
    }
}
