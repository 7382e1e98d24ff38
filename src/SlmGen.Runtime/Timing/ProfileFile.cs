using System.IO;
using System.Linq;
using System.Text.Json;
using SlmGen.IO;

namespace SlmGen.Timing;

/// <summary>A device profile as a JSON file (System.Text.Json), read with limits and checked.</summary>
public static class ProfileFile
{
    private static readonly JsonSerializerOptions Options = new() { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.CamelCase };

    /// <summary>Writes <paramref name="profile"/> to <paramref name="path"/> (atomically).</summary>
    public static void Write(DeviceProfile profile, string path) => AtomicFile.Write(path, s => JsonSerializer.Serialize(s, profile, Options));

    /// <summary>Reads a profile; a file that is not one is an <see cref="InvalidDataException"/> naming it.</summary>
    public static DeviceProfile Read(string path)
    {
        var text = InputFile.ReadAllText(path, "device profile", 16 << 20);
        DeviceProfile? profile;
        try
        {
            profile = JsonSerializer.Deserialize<DeviceProfile>(text, Options);
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{path} is not a device profile ({e.Message}).", e);
        }

        if (profile is null || profile.Matmul is null || profile.Attention is null || profile.Matmul.Count == 0 || !(profile.BandwidthBytesPerSecond > 0) || !(profile.LaunchSeconds >= 0) || profile.ElementBytes is not (2 or 4)
            || profile.NoGradLaunchSeconds < 0 || profile.GraphKernelSeconds < 0 || profile.StepSeconds < 0 || profile.GraphStepSeconds < 0 || profile.TokenSeconds < 0 || profile.PrefillLaunchSeconds < 0 || profile.PrefillSeconds < 0 || (profile.GraphMatmul ?? []).Concat(profile.UnalignedMatmul ?? []).Concat(profile.GraphUnalignedMatmul ?? [])
                .Concat(profile.UnalignedInputGradient ?? []).Concat(profile.UnalignedWeightGradient ?? []).Concat(profile.GraphUnalignedInputGradient ?? []).Concat(profile.GraphUnalignedWeightGradient ?? []).Any(p => p is null || !(p.FlopsPerSecond > 0)))
        {
            throw new InvalidDataException($"{path} is not a device profile: it lacks matmul rates, a bandwidth, a launch time or an element size of 2 or 4 bytes, or has a negative time or a rate that is not positive (write one with slmgen calibrate).");
        }

        // Lists a profile does not have (older files, or null) are empty: the model then uses the ones it has.
        return profile with
        {
            GraphMatmul = profile.GraphMatmul ?? [],
            GraphAttention = profile.GraphAttention ?? [],
            UnalignedMatmul = profile.UnalignedMatmul ?? [],
            GraphUnalignedMatmul = profile.GraphUnalignedMatmul ?? [],
            UnalignedInputGradient = profile.UnalignedInputGradient ?? [],
            UnalignedWeightGradient = profile.UnalignedWeightGradient ?? [],
            GraphUnalignedInputGradient = profile.GraphUnalignedInputGradient ?? [],
            GraphUnalignedWeightGradient = profile.GraphUnalignedWeightGradient ?? [],
        };
    }
}
