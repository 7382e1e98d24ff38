using System;
using System.IO;
using System.Linq;
using SlmGen.Timing;
using static TorchSharp.torch;

namespace SlmGen.Runtime.Tests;

/// <summary>The device profile on the real CPU (a quick calibration), its file, and the time model's rules.</summary>
public class TimingTests
{
    [Fact]
    public void A_quick_calibration_measures_this_cpu_and_its_file_reads_back()
    {
        var profile = DeviceCalibration.Measure(CPU, quick: true);
        Assert.Equal("cpu", profile.Backend);
        Assert.True(profile.Synchronous);
        Assert.Equal(4, profile.ElementBytes);
        Assert.True(profile.BandwidthBytesPerSecond is > 1e8 and < 1e12, $"{profile.BandwidthBytesPerSecond} B/s");
        Assert.True(profile.LaunchSeconds is > 1e-8 and < 1e-2, $"{profile.LaunchSeconds} s");
        Assert.NotEmpty(profile.Matmul);
        Assert.All(profile.Matmul, p => Assert.True(p.FlopsPerSecond is > 1e6 and < 1e13, $"{p}"));
        Assert.NotEmpty(profile.Attention);

        var path = Path.Combine(Directory.CreateTempSubdirectory("slmgen-profile-").FullName, "cpu.json");
        ProfileFile.Write(profile, path);
        var read = ProfileFile.Read(path);
        Assert.Equal(profile.Matmul.ToList(), read.Matmul.ToList());
        Assert.Equal(profile.BandwidthBytesPerSecond, read.BandwidthBytesPerSecond);

        File.WriteAllText(path, "{ \"device\": \"x\" }");
        Assert.Contains(path, Assert.Throws<InvalidDataException>(() => ProfileFile.Read(path)).Message, StringComparison.Ordinal);
        File.WriteAllText(path, "not json");
        Assert.Throws<InvalidDataException>(() => ProfileFile.Read(path));
    }

    [Fact]
    public void Kernels_take_the_larger_of_compute_and_memory_and_launches_add_or_overlap()
    {
        var device = new DeviceProfile("d", "cpu", 4, 1e9, 1e-3, Synchronous: true, new[] { new MatmulPoint(64, 64, 64, 1e9) }, new[] { new AttentionPoint(8, 64, 16, 1e9, 1e9) });
        var matmul = new StepOp("c", "mm", OpPhase.Forward, OpKind.Matmul, 64, 64, 64, 2e9, 1e6, 1);   // 2 s of compute, 1 ms of memory
        var copy = new StepOp("c", "copy", OpPhase.Backward, OpKind.Memory, 1, 0, 0, 0, 5e9, 2);      // 5 s of memory
        var sync = TimeModel.Predict(new[] { matmul, copy }, device);
        Assert.Equal(2 + 5 + 2e-3, sync.Seconds, 9); // the matmul's launch is inside its measured rate; the copy's adds
        Assert.Equal(TimeBound.Memory, sync.Dominant.Bound);
        var overlapped = TimeModel.Predict(new[] { matmul, copy }, device with { Synchronous = false });
        Assert.Equal(7, overlapped.Seconds, 9);
        var launchBound = TimeModel.Predict(new[] { matmul with { Flops = 2e3, Bytes = 0, Count = 10 } }, device with { Synchronous = false });
        Assert.Equal(10e-3, launchBound.Seconds, 12);
        Assert.Equal(TimeBound.Launch, launchBound.Dominant.Bound);
        Assert.Equal(2e-5, TimeModel.Predict(new[] { matmul with { Flops = 2e3, Bytes = 0, Count = 10 } }, device with { Synchronous = false }, graphed: true).Seconds, 12);
    }
}
