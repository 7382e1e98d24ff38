using System.Collections.Generic;
using System.Linq;
using SlmGen.Cli.Commands;
using SlmGen.Timing;

namespace SlmGen.Cli;

/// <summary>
/// The host's cost per kernel now, beside the one a device profile was calibrated with: <c>slmgen time --check-host</c>.
/// An eager step or a decoded token of a small model is host time, so a host slower than at its calibration makes
/// those predictions short by about <see cref="Ratio"/> (results/time: one H100 decoded the same designs 1.6–2.8×
/// slower than another whose calibration measured the same per-kernel cost).
/// </summary>
/// <param name="KernelSeconds">A kernel's host time inside SlmGen's layers now: the calibration's reference models at one and at four blocks, the median of their per-kernel costs, as <c>slmgen calibrate</c> takes it.</param>
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

    /// <summary>The specs it times: every calibration reference model at one and at four blocks, at the decoding context (<paramref name="decoding"/>) or the training one — the pairs whose median <c>slmgen calibrate</c> keeps.</summary>
    public static IReadOnlyList<(string Path, string Yaml)> Specs(bool decoding) =>
        Enumerable.Range(0, CalibrateCommand.ReferenceModels.Length).Select(CalibrateCommand.ReferenceSpecs)
            .SelectMany(s => decoding ? new[] { s[2], s[3] } : new[] { s[0], s[1] }).ToList();

    /// <summary>
    /// Times the calibration's reference models at one and four blocks on <paramref name="device"/>, as
    /// <c>slmgen calibrate</c> times them, and takes the median of their per-kernel costs as it does (a few seconds a
    /// model). Session 25 found the check comparing one reference model now with the profile's median over all three:
    /// on the CPU their decoding costs per kernel differ twofold (7.6, 3.6 and 4.2 µs in one calibration), so a check
    /// run a minute after its calibration reported a host 2.4× slower than it was.
    /// </summary>
    public static HostCheck Measure(TorchSharp.torch.Device device, SlmGen.DeviceProfile profile, bool decoding)
    {
        var created = CalibrateCommand.CreateModels(Specs(decoding));
        try
        {
            var pairs = Enumerable.Range(0, created.Count / 2).Select(i => (created[2 * i], created[(2 * i) + 1])).ToList();
            var none = new List<(SlmModel, SlmModel)>();
            var costs = DeviceCalibration.MeasureInModels(decoding ? none : pairs, decoding ? pairs : none, device, profile.ElementBytes);
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
