using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text.Json;
using SlmGen.Layers;
using SlmGen.Native;
using TorchSharp;
using static TorchSharp.torch;

namespace SlmGen.Samples.Bench;

/// <summary>
/// Issue 29's correctness check of the fused kernels on a CUDA device: each kernel against the unfused TorchSharp
/// code it replaces (the layers with <see cref="FusedKernels.Enabled"/> off), forward and every gradient, on random
/// shapes with odd widths, in fp32 and bf16. The truth is the unfused computation in fp64 on the same inputs; a
/// kernel passes when its error against the truth is at most twice the unfused path's own error (plus a floor of a
/// few units in the last place): "within the dtype's noise". One JSON line per case. The ops: add + LayerNorm / RMSNorm
/// (with and without weight and bias), RMSNorm, bias + GELU / squared ReLU, SwiGLU, RoPE (full and partial, strided
/// input, a start offset), the next-token cross-entropy (plain, and padded columns with z-loss) and a biased linear layer.
/// </summary>
public static class FusedCheck
{
    // Readable lines: "add+layernorm", not "add\u002Blayernorm" (the file is read by scripts, never embedded in HTML).
    private static readonly JsonSerializerOptions Json = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    private static readonly (long Rows, long Width)[] Shapes = { (1, 1), (3, 7), (17, 63), (64, 65), (129, 384), (256, 768), (33, 1027), (8, 4099), (100, 1544) };

    /// <summary>Runs every case; returns the number that failed.</summary>
    public static int Run(Device device, string? jsonPath)
    {
        FusedKernels.Enabled = true; // what is checked is the kernels, whatever SLMGEN_FUSED says
        Console.WriteLine(FusedKernels.Status);
        if (!FusedKernels.Ready || device.type != DeviceType.CUDA)
        {
            // Still runs every case (the fused side then takes the unfused path: the check's own code is exercised),
            // but fails: nothing fused was checked.
            Console.WriteLine("no fused kernels on this device: every case compares the unfused path with itself");
        }

        var lines = new List<string>();
        var failed = 0;
        var generator = new Random(29);
        foreach (var dtype in new[] { ScalarType.Float32, ScalarType.BFloat16 })
        {
            foreach (var (rows, width) in Shapes)
            {
                foreach (var (name, op) in Ops())
                {
                    manual_seed(generator.Next());
                    using var scope = NewDisposeScope();
                    // A case that throws fails with the exception's first line; the others still run.
                    List<(string Name, double Fused, double Unfused)>? errors = null;
                    string? exception = null;
                    try
                    {
                        errors = Compare(op, rows, width, dtype, device);
                    }
                    catch (Exception e)
                    {
                        exception = e.Message.Split('\n')[0];
                    }

                    var floor = dtype == ScalarType.BFloat16 ? 1.6e-2 : 2e-6;
                    var ok = errors is not null && errors.All(e => e.Fused <= Math.Max(2 * e.Unfused, floor));
                    failed += ok ? 0 : 1;
                    // errors_fused_unfused: each output's and gradient's [fused, unfused] error, or the exception.
                    var detail = errors is null
                        ? new Dictionary<string, object?> { ["exception"] = exception }
                        : errors.ToDictionary(e => e.Name, e => (object?)new[] { e.Fused, e.Unfused });
                    var line = JsonSerializer.Serialize(new { op = name, dtype = dtype.ToString(), rows, width, ok, errors_fused_unfused = detail }, Json);
                    lines.Add(line);
                    if (!ok)
                    {
                        Console.WriteLine("FAIL " + line);
                    }
                }
            }
        }

        Console.WriteLine($"fused-check: {lines.Count - failed} of {lines.Count} cases within the unfused path's noise");
        if (jsonPath is not null)
        {
            File.WriteAllLines(jsonPath, lines);
        }

        return failed + (FusedKernels.Ready && device.type == DeviceType.CUDA ? 0 : 1);
    }

    // Each op takes its inputs (tensors of the dtype, on the device, not yet leaves) and returns its outputs and the
    // leaves whose gradients are compared (its modules' parameters included); the same function runs fused and unfused.
    private delegate (Tensor[] Outputs, Tensor[] Leaves) Op(Tensor[] inputs);

    private static IEnumerable<(string Name, (Op Op, Func<long, long, long[][]> Shapes))> Ops()
    {
        yield return ("add+layernorm", (t => AddNorm(t, layer: true, weight: true, bias: true), (r, w) => new[] { new[] { r, w }, new[] { r, w }, new[] { w }, new[] { w } }));
        yield return ("add+layernorm-nobias", (t => AddNorm(t, layer: true, weight: true, bias: false), (r, w) => new[] { new[] { r, w }, new[] { r, w }, new[] { w } }));
        yield return ("add+rmsnorm", (t => AddNorm(t, layer: false, weight: true, bias: false), (r, w) => new[] { new[] { r, w }, new[] { r, w }, new[] { w } }));
        yield return ("add+rmsnorm-free", (t => AddNorm(t, layer: false, weight: false, bias: false), (r, w) => new[] { new[] { r, w }, new[] { r, w } }));
        yield return ("rmsnorm", (Rms, (r, w) => new[] { new[] { r, w }, new[] { w } }));
        yield return ("layernorm", (LayerNormAlone, (r, w) => new[] { new[] { r, w }, new[] { w }, new[] { w } }));
        yield return ("bias+gelu", (t => BiasAct(t, Act.Gelu), (r, w) => new[] { new[] { r, w }, new[] { w } }));
        yield return ("gelu", (t => BiasAct(t, Act.Gelu), (r, w) => new[] { new[] { r, w } }));
        yield return ("bias+relu2", (t => BiasAct(t, Act.ReluSquared), (r, w) => new[] { new[] { r, w }, new[] { w } }));
        yield return ("swiglu", (SwiGlu, (r, w) => new[] { new[] { r, w }, new[] { r, w } }));
        yield return ("rope", (t => Rope(t, partial: false), (r, w) => new[] { new[] { 2, r, 3, Even(w) } }));
        yield return ("rope-partial", (t => Rope(t, partial: true), (r, w) => new[] { new[] { 2, r, 3, Even(w) } }));
        yield return ("linear+bias", (LinearBias, (r, w) => new[] { new[] { r, w }, new[] { w, w }, new[] { w } }));
        yield return ("cross-entropy", (t => Loss(t, padded: false), (r, w) => new[] { new[] { r, w } }));
        yield return ("cross-entropy-padded-zloss", (t => Loss(t, padded: true), (r, w) => new[] { new[] { r, w } }));
    }

    private static List<(string Name, double Fused, double Unfused)> Compare((Op Op, Func<long, long, long[][]> Shapes) op, long rows, long width, ScalarType dtype, Device device)
    {
        var shapes = op.Shapes(rows, width);
        // Inputs rounded to the dtype (so all three computations see the same values): the weight (third) near 1,
        // vectors otherwise near 0.
        var inputs = shapes.Select((s, i) => (s.Length == 1 ? (i == 2 ? randn(s).Times(0.1).Plus(1L) : randn(s).Times(0.1)) : randn(s)).to(dtype)).ToArray();
        Tensor[] Run(bool fused, ScalarType type)
        {
            FusedKernels.Enabled = fused;
            try
            {
                var (outputs, leaves) = op.Op(inputs.Select(x => x.to(type).to(device)).ToArray());
                // A fixed random weighting of every output, so each gradient path is exercised.
                // (Drawn on the CPU from a seeded generator: the same weights for all three runs.)
                var g = new Generator(7);
                var loss = zeros(1, dtype: ScalarType.Float64, device: device);
                foreach (var o in outputs)
                {
                    loss = loss.Plus((o.to(ScalarType.Float64) * randn(o.shape, dtype: ScalarType.Float64, generator: g).to(device)).sum());
                }

                loss.backward();
                return outputs.Select(o => o.detach().to(ScalarType.Float64)).Concat(leaves.Select(l => l.grad!.to(ScalarType.Float64))).ToArray();
            }
            finally
            {
                FusedKernels.Enabled = true;
            }
        }

        var truth = Run(false, ScalarType.Float64);
        var unfused = Run(false, dtype);
        var fused = Run(true, dtype);
        var outs = truth.Length - inputs.Length;
        return truth.Select((t, i) => (i < outs ? $"out{i}" : $"grad{i - outs}", Error(fused[i], t), Error(unfused[i], t))).ToList();
    }

    // Relative to the truth's largest value, absolute below 1 (a width-1 norm's weight gradient is 0 in exact arithmetic).
    private static double Error(Tensor a, Tensor truth) => (a - truth).abs().max().item<double>() / Math.Max(truth.abs().max().item<double>(), 1.0);

    private static Tensor Leaf(Tensor t) => t.detach().requires_grad_(true);

    // x + r, then the norm: through FusedKernels.TryAddNorm when enabled (what TransformerBlock does), else unfused.
    private static (Tensor[], Tensor[]) AddNorm(Tensor[] t, bool layer, bool weight, bool bias)
    {
        var x = Leaf(t[0]);
        var r = Leaf(t[1]);
        var width = x.shape[^1];
        nn.Module<Tensor, Tensor> norm;
        var parameters = new List<Tensor>();
        if (layer)
        {
            var ln = nn.LayerNorm(width, bias: bias, device: x.device, dtype: x.dtype);
            using (no_grad())
            {
                ln.weight!.copy_(t[2]);
                if (bias)
                {
                    ln.bias!.copy_(t[3]);
                }
            }

            parameters.Add(ln.weight!);
            if (bias)
            {
                parameters.Add(ln.bias!);
            }

            norm = ln;
        }
        else
        {
            var rms = new RmsNorm(width, learnedScale: weight);
            rms.to(x.device);
            rms.to(x.dtype);
            if (weight)
            {
                using (no_grad())
                {
                    rms.Weight!.copy_(t[2]);
                }

                parameters.Add(rms.Weight!);
            }

            norm = rms;
        }

        var leaves = new[] { x, r }.Concat(parameters).ToArray();
        if (FusedKernels.Enabled && FusedKernels.TryAddNorm(norm, x, r, out var sum, out var normed))
        {
            return (new[] { sum, normed }, leaves);
        }

        var s = x.Plus(r);
        return (new[] { s, norm.call(s) }, leaves);
    }

    private static (Tensor[], Tensor[]) Rms(Tensor[] t)
    {
        var x = Leaf(t[0]);
        var rms = new RmsNorm(x.shape[^1]);
        rms.to(x.device);
        rms.to(x.dtype);
        using (no_grad())
        {
            rms.Weight!.copy_(t[1]);
        }

        return (new[] { rms.call(x) }, new[] { x, (Tensor)rms.Weight! });
    }

    // A LayerNorm with weight and bias alone (a pre-norm block's first sublayer): through FusedKernels.TryNorm when enabled.
    private static (Tensor[], Tensor[]) LayerNormAlone(Tensor[] t)
    {
        var x = Leaf(t[0]);
        var ln = nn.LayerNorm(x.shape[^1], device: x.device, dtype: x.dtype);
        using (no_grad())
        {
            ln.weight!.copy_(t[1]);
            ln.bias!.copy_(t[2]);
        }

        var y = FusedKernels.Enabled && FusedKernels.TryNorm(ln, x, out var normed) ? normed : ln.call(x);
        return (new[] { y }, new[] { x, (Tensor)ln.weight!, ln.bias! });
    }

    private static (Tensor[], Tensor[]) BiasAct(Tensor[] t, Act act)
    {
        var x = Leaf(t[0]);
        var b = t.Length > 1 ? Leaf(t[1]) : null;
        var y = FusedKernels.Enabled && FusedKernels.Applies(x, b) ? FusedKernels.BiasAct(x, b, FusedKernels.KernelOf(act)) : Activations.Apply(act, b is null ? x : x.Plus(b));
        return (new[] { y }, b is null ? new[] { x } : new[] { x, b });
    }

    private static long Even(long width) => width + (width % 2);

    // Queries or keys as attention makes them, (B, H, T, D) strided (a transpose of (B, T, H, D)), rotated from
    // position 3; partial: the first half of each head (rounded to even) turns.
    private static (Tensor[], Tensor[]) Rope(Tensor[] t, bool partial)
    {
        var leaf = Leaf(t[0]);
        var x = leaf.transpose(1, 2);
        var d = x.shape[3];
        var rotated = partial && d >= 4 ? d / 4 * 2 : d;
        using var rope = new RotaryEmbedding((int)x.shape[2] + 3, rotated);
        return (new[] { rope.Rotate(x, 3) }, new[] { leaf });
    }

    // The next-token loss of logits (rows, width) as SlmModel.Loss computes it; padded: the last 3 columns are
    // pad_vocab_to's (no probability, no gradient), with z-loss. The fp64 truth is the formula in fp64 (the unfused
    // path computes in fp32).
    private static (Tensor[], Tensor[]) Loss(Tensor[] t, bool padded)
    {
        var logits = Leaf(t[0]);
        var width = logits.shape[1];
        var real = padded && width > 3 ? width - 3 : width;
        var zLoss = padded ? 0.01 : 0;
        var targets = randint(0, real, new[] { logits.shape[0] }, dtype: ScalarType.Int64, generator: new Generator(11)).to(logits.device);
        Tensor loss;
        if (logits.dtype == ScalarType.Float64)
        {
            var scores = logits.narrow(1, 0, real);
            var lse = scores.logsumexp(1);
            loss = (lse - scores.gather(1, targets.unsqueeze(1)).squeeze(1)).Plus(lse.Squared().Times(zLoss)).mean();
        }
        else
        {
            loss = NextTokenLoss.Mean(logits, targets, real, zLoss);
        }

        return (new[] { loss.reshape(1) }, new[] { logits });
    }

    // x Wᵀ + b as a biased layer runs it (Linears.Affine: the fused linear when enabled, its bias gradient from
    // SlmGen's column-sum kernel), x (rows, width), W (width, width).
    private static (Tensor[], Tensor[]) LinearBias(Tensor[] t)
    {
        var x = Leaf(t[0]);
        var w = Leaf(t[1]);
        var b = Leaf(t[2]);
        return (new[] { Linears.Affine(x, w, b) }, new[] { x, w, b });
    }

    private static (Tensor[], Tensor[]) SwiGlu(Tensor[] t)
    {
        var a = Leaf(t[0]);
        var b = Leaf(t[1]);
        var y = FusedKernels.Enabled && FusedKernels.Applies(a, b) ? FusedKernels.SwiGlu(a, b) : nn.functional.silu(a) * b;
        return (new[] { y }, new[] { a, b });
    }
}
