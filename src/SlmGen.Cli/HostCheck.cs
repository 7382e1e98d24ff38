using System.Collections.Generic;
using SlmGen.Cli.Commands;
using SlmGen.Timing;

namespace SlmGen.Cli;

/// <summary>
/// The host's cost per kernel now, beside the one a device profile was calibrated with: <c>slmgen time --check-host</c>.
/// An eager step or a decoded token of a small model is host time, so a host slower than at its calibration makes
/// those predictions short by about <see cref="Ratio"/> (results/time: one H100 decoded the same designs 1.6–2.8×
/// slower than another whose calibration measured the same per-kernel cost).
/// </summary>
/// <param name="KernelSeconds">A kernel's host time inside SlmGen's layers now: the first calibration reference model at one and at four blocks, as <c>slmgen calibrate</c> times it.</param>
/// <param name="ProfileKernelSeconds">The profile's figure for the same mode (through autograd for training, without it for decoding).</param>
/// <param name="Decoding">Whether decoding was timed (else the training step).</param>
public sealed record HostCheck(double KernelSeconds, double ProfileKernelSeconds, bool Decoding)
{
    /// <summary>Now over the profile's: above 1, the host is slower than when the profile was measured.</summary>
    public double Ratio => KernelSeconds / ProfileKernelSeconds;

    /// <summary>A line for the console.</summary>
    public string Describe() =>
        $"host check: a kernel {KernelSeconds * 1e6:0.0} µs {(Decoding ? "decoding" : "through autograd")} now, {ProfileKernelSeconds * 1e6:0.0} µs in the profile ({Ratio:0.00}×)"
        + (Ratio > 1.15 ? ": the host is slower than when the profile was measured; host-bound predictions (eager steps, decoding) will be short" : Ratio < 0.87 ? ": the host is faster than when the profile was measured; host-bound predictions will be long" : string.Empty);

    /// <summary>Times the first reference model at one and four blocks on <paramref name="device"/> (a few seconds).</summary>
    public static HostCheck Measure(TorchSharp.torch.Device device, SlmGen.DeviceProfile profile, bool decoding)
    {
        var specs = CalibrateCommand.ReferenceSpecs(0);
        var created = CalibrateCommand.CreateModels(decoding ? new[] { specs[2], specs[3] } : new[] { specs[0], specs[1] });
        try
        {
            var pair = new List<(SlmModel, SlmModel)> { (created[0], created[1]) };
            var none = new List<(SlmModel, SlmModel)>();
            var costs = DeviceCalibration.MeasureInModels(decoding ? none : pair, decoding ? pair : none, device, profile.ElementBytes);
            return decoding
                ? new HostCheck(costs.NoGradKernel, profile.Launch(autograd: false), true)
                : new HostCheck(costs.Kernel, profile.Launch(autograd: true), false);
        }
        finally
        {
            created.ForEach(m => m.Dispose());
        }
    }
}
