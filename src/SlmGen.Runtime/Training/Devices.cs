using System;
using TorchSharp;
using static TorchSharp.torch;

namespace SlmGen.Training;

/// <summary>Device selection and seeding.</summary>
public static class Devices
{
    /// <summary>"auto" (CUDA when available, else CPU), "cpu", "cuda" or "cuda:N".</summary>
    public static Device Resolve(string? name)
    {
        name = string.IsNullOrWhiteSpace(name) ? "auto" : name.Trim().ToLowerInvariant();
        if (name == "auto")
        {
            return cuda.is_available() ? CUDA : CPU;
        }

        if (name.StartsWith("cuda", StringComparison.Ordinal) && !cuda.is_available())
        {
            throw new InvalidOperationException(
                "CUDA was asked for but is not available: build with -p:SlmGenBackend=cuda (TorchSharp-cuda-linux) or point LD_LIBRARY_PATH at a CUDA libtorch (docs/backends.md).");
        }

        return new Device(name);
    }

    /// <summary>Seeds torch's generators (weights, dropout) on every device.</summary>
    public static void Seed(long seed)
    {
        manual_seed(seed);
        if (cuda.is_available())
        {
            cuda.manual_seed_all(seed);
        }
    }

    /// <summary>A one-line description of the device.</summary>
    public static string Describe(Device device) =>
        device.type == DeviceType.CUDA
            ? System.Environment.GetEnvironmentVariable("SLMGEN_DEVICE_NAME") is { Length: > 0 } name ? $"cuda ({name})" : "cuda"
            : $"cpu ({get_num_threads()} threads)";
}
