using System;
using SlmGen.Layers;
using TorchSharp;
using static TorchSharp.torch;

namespace SlmGen.Artifacts;

/// <summary>One weight matrix quantised: its integer codes and its scales (already rounded to their storage type).</summary>
/// <param name="Codes">int8 codes [rows, columns] in [−levels, levels].</param>
/// <param name="Scales">float32 scales [rows, groups], exactly representable in the scales' storage type.</param>
public sealed record QuantizedMatrix(Tensor Codes, Tensor Scales) : IDisposable
{
    /// <inheritdoc />
    public void Dispose()
    {
        Codes.Dispose();
        Scales.Dispose();
    }
}

/// <summary>
/// The quantisers of a precision plan, on one weight matrix: round to nearest with absmax scales; with the clipping of
/// each row or group searched to minimise the squared error; GPTQ. Scales are rounded to their storage type before the
/// codes are found, so that codes × stored scales is the grid the codes were chosen on.
/// </summary>
public static class WeightQuantizer
{
    /// <summary>Clipping ratios the MSE search tries: 1, 0.99, …, 0.50 of the absmax.</summary>
    public const int MseSteps = 51;

    /// <summary>Columns GPTQ quantises between two updates of the columns after them.</summary>
    public const int GptqBlock = 128;

    /// <summary>GPTQ's damping: this fraction of the Hessian's mean diagonal is added to it.</summary>
    public const double GptqDamping = 0.01;

    /// <summary>Quantises <paramref name="w"/> ([rows, columns]); <paramref name="hessian"/> ([columns, columns], the inputs' Xᵀ X) for GPTQ.</summary>
    public static QuantizedMatrix Quantize(Tensor w, int bits, int group, StoreType scaleType, Quantizer method, Tensor? hessian = null, QuantGrid grid = QuantGrid.Symmetric)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        // On the weight's device (a model on a GPU quantises there: the MSE search and GPTQ's column loop took minutes
        // on the CPU for a 17 M design); the codes and scales come back on the CPU, where the writer packs them.
        var weight = w.detach().to(ScalarType.Float32);
        var result = method switch
        {
            Quantizer.Mse => Mse(weight, bits, group, scaleType, grid),
            Quantizer.Gptq or Quantizer.GptqMse or Quantizer.GptqLearned when hessian is not null => Gptq(weight, bits, group, scaleType, hessian.to(ScalarType.Float32).to(weight.device), grid, method),
            Quantizer.Gptq or Quantizer.GptqMse or Quantizer.GptqLearned => throw new InvalidOperationException("GPTQ needs the layer's input statistics (a calibration sample); none was given."),
            Quantizer.Learned when hessian is not null => Learned(weight, bits, group, scaleType, hessian.to(ScalarType.Float32).to(weight.device), grid),
            Quantizer.Learned => throw new InvalidOperationException("Learned scales need the layer's input statistics (a calibration sample); none was given."),
            _ => AbsMax(weight, bits, group, scaleType, grid),
        };
        return new QuantizedMatrix(result.Codes.cpu().MoveToOuterDisposeScope(), result.Scales.cpu().MoveToOuterDisposeScope());
    }

    /// <summary>The torch type a storage type stores in.</summary>
    public static ScalarType ScalarTypeOf(StoreType type) => type switch { StoreType.Fp16 => ScalarType.Float16, StoreType.Bf16 => ScalarType.BFloat16, _ => ScalarType.Float32 };

    /// <summary>Scales rounded to their storage type (and back to float32); a scale of 0 (an all-zero row or group) stays 0.</summary>
    public static Tensor Stored(Tensor scales, StoreType type)
    {
        var stored = scales.to(ScalarTypeOf(type)).to(ScalarType.Float32);
        if (!stored.isfinite().all().item<bool>())
        {
            throw new InvalidOperationException($"A scale of {scales.abs().max().item<float>():G4} does not fit in {ArtifactPlan.Name(type)}: store the scales as fp32 (quantization.scales: fp32).");
        }

        return stored;
    }

    private static (Tensor Codes, Tensor Scales) AbsMax(Tensor w, int bits, int group, StoreType scaleType, QuantGrid grid)
    {
        var scales = Stored(FakeQuant.GroupAbsMax(w, group).Over(FakeQuant.TopLevel(bits, grid)), scaleType);
        return (Codes(w, scales, bits, group, grid), scales);
    }

    /// <summary>Codes of <paramref name="w"/> on stored scales; a zero scale gives zero codes (its weights restore as 0 on either grid).</summary>
    private static Tensor Codes(Tensor w, Tensor scales, int bits, int group, QuantGrid grid)
    {
        var spread = FakeQuant.Spread(scales, w.shape[1], group);
        var safe = where(spread.EqualTo(0), ones_like(spread), spread);
        return FakeQuant.Round(w / safe, bits, grid).mul(spread.NotEqualTo(0)).to(ScalarType.Int8);
    }

    private static (Tensor Codes, Tensor Scales) Mse(Tensor w, int bits, int group, StoreType scaleType, QuantGrid grid)
    {
        var scales = MseScales(w, bits, group, scaleType, grid);
        return (Codes(w, scales, bits, group, grid), scales);
    }

    /// <summary>Each row's (or group's) stored scale whose round-to-nearest codes leave the least squared error, over clippings of 1 to ½ of its absmax.</summary>
    private static Tensor MseScales(Tensor w, int bits, int group, StoreType scaleType, QuantGrid grid)
    {
        var absMax = FakeQuant.GroupAbsMax(w, group);
        var levels = FakeQuant.TopLevel(bits, grid);
        Tensor? best = null, bestError = null;
        for (var step = 0; step < MseSteps; step++)
        {
            var ratio = 1.0 - (0.5 * step / (MseSteps - 1));
            var scales = Stored(absMax.Times(ratio).Over(levels), scaleType);
            var codes = Codes(w, scales, bits, group, grid);
            var error = GroupSum((w - FakeQuant.Dequantize(codes, scales, group, grid)).Squared(), group);
            if (best is null)
            {
                best = scales;
                bestError = error;
                continue;
            }

            var better = error < bestError!;
            best = where(better, scales, best);
            bestError = where(better, error, bestError!);
        }

        return best!;
    }

    /// <summary>Steps of gradient descent <see cref="Quantizer.Learned"/> takes on the log-scales.</summary>
    public const int LearnedSteps = 200;

    /// <summary>Adam's learning rate on the log-scales (a step of 1 % of a scale at most, about).</summary>
    public const double LearnedRate = 0.01;

    /// <summary>
    /// Round to nearest on learned scales: from the MSE-searched scales, Adam on each row's (or group's) log-scale
    /// minimises the layer's output error over the calibration sample, tr(E H Eᵀ) for the weights' error E and the
    /// inputs' H = Xᵀ X — the rounding straight-through, the clamp's and the levels' dependence on the scale kept (the
    /// scale's gradient as in LSQ). The result is rounded to the scales' storage type and kept for a row only where its
    /// error is below the MSE scales' (so it is never worse on the calibration sample than <see cref="Quantizer.Mse"/>).
    /// </summary>
    private static (Tensor Codes, Tensor Scales) Learned(Tensor w, int bits, int group, StoreType scaleType, Tensor hessian, QuantGrid grid)
    {
        var scales = LearnedScales(w, bits, group, scaleType, hessian, grid);
        return (Codes(w, scales, bits, group, grid), scales);
    }

    /// <summary>The scales <see cref="Learned"/> rounds on (see there), [rows, groups].</summary>
    private static Tensor LearnedScales(Tensor w, int bits, int group, StoreType scaleType, Tensor hessian, QuantGrid grid)
    {
        var start = MseScales(w, bits, group, scaleType, grid);
        // H normalised by its mean diagonal: the loss's size does not depend on the sample's length or the inputs' scale.
        var h = hessian / hessian.diagonal().mean().ClampMin(1e-30);
        Tensor RowError(Tensor scales)
        {
            var e = w - FakeQuant.Dequantize(Codes(w, scales, bits, group, grid), scales, group, grid);
            return (e.matmul(h) * e).sum(1);
        }

        var startError = RowError(start);
        var logScale = zeros_like(start);
        var live = start.NotEqualTo(0); // an all-zero row or group keeps its zero scale
        var safeStart = where(live, start, ones_like(start));
        // Adam (β 0.9 / 0.999) on the log-scales, by hand: its moments live outside each step's dispose scope.
        var m = zeros_like(start);
        var v = zeros_like(start);
        using (var grad = enable_grad())
        {
            for (var step = 1; step <= LearnedSteps; step++)
            {
                using var inner = NewDisposeScope();
                var theta = logScale.detach().requires_grad_(true);
                var spread = FakeQuant.Spread(safeStart * theta.exp(), w.shape[1], group);
                var x = w / spread;
                // The rounding straight through (its gradient taken as 1); the clamp's as it is (0 beyond the grid's
                // ends, where the level is the end's and moves with the scale alone).
                var nearest = grid == QuantGrid.Stretched ? x.floor() : x.round();
                var codes = x.Plus((nearest - x).detach()).ClampBetween(ArtifactLayout.MinCode(bits, grid), ArtifactLayout.MaxCode(bits, grid));
                var e = w - (FakeQuant.Level(codes, grid) * spread);
                var loss = (e.matmul(h) * e).sum();
                var g = torch.autograd.grad(new[] { loss }, new[] { theta })[0];
                using var noGrad = no_grad();
                using var beta1 = 0.9.ToScalar();
                using var rest1 = 0.1.ToScalar();
                using var beta2 = 0.999.ToScalar();
                using var rest2 = 0.001.ToScalar();
                m.mul_(beta1).add_(g, alpha: rest1);
                v.mul_(beta2).add_(g.Squared(), alpha: rest2);
                var mHat = m.Over(1 - Math.Pow(0.9, step));
                var vHat = v.Over(1 - Math.Pow(0.999, step));
                logScale.sub_(mHat.Times(LearnedRate) / vHat.sqrt().Plus(1e-12));
            }
        }

        var learned = where(live, Stored(safeStart * logScale.exp(), scaleType), start);
        var better = (RowError(learned) < startError).unsqueeze(1);
        return where(better, learned, start);
    }

    /// <summary>Sums over each row ([rows, 1]) or each group of columns ([rows, groups]).</summary>
    private static Tensor GroupSum(Tensor x, int group)
    {
        var columns = x.shape[1];
        if (group <= 0 || group >= columns)
        {
            return x.sum(new long[] { 1 }, keepdim: true);
        }

        var groups = (columns + group - 1) / group;
        var padded = groups * group == columns ? x : nn.functional.pad(x, new long[] { 0, (groups * group) - columns });
        return padded.reshape(x.shape[0], groups, group).sum(new long[] { 2 });
    }

    /// <summary>
    /// GPTQ (Frantar et al. 2023): columns in order, each quantised on its row's (or group's) grid — a group's scales
    /// taken from the weights as updated when the group starts, at their absmax (<see cref="Quantizer.Gptq"/>), at the
    /// clipping that leaves the least squared error there (<see cref="Quantizer.GptqMse"/>) or learned on the group's
    /// block of H (<see cref="Quantizer.GptqLearned"/>) — and its error spread over the columns not yet
    /// quantised through the upper Cholesky factor of the damped inverse Hessian, in blocks of <see cref="GptqBlock"/>.
    /// </summary>
    private static (Tensor Codes, Tensor Scales) Gptq(Tensor w, int bits, int group, StoreType scaleType, Tensor hessian, QuantGrid grid, Quantizer method)
    {
        var searchClipping = method == Quantizer.GptqMse;
        var learn = method == Quantizer.GptqLearned;
        var rows = w.shape[0];
        var columns = w.shape[1];
        var levels = FakeQuant.TopLevel(bits, grid);
        var weight = w.clone();
        var h = hessian.to(ScalarType.Float64).clone();
        var diagonal = h.diagonal();
        var dead = diagonal.EqualTo(0);
        h.diagonal().FillWhereInPlace(dead, 1);
        weight.FillWhereInPlace(dead.unsqueeze(0), 0);
        var damp = GptqDamping * h.diagonal().mean().item<double>();
        h.diagonal().PlusInPlace(damp);
        var inverse = linalg.cholesky(linalg.inv(h)).mT.contiguous().to(ScalarType.Float32); // upper factor: inverse = Uᵀ U

        var groups = ArtifactLayout.GroupsPerRow(columns, group);
        var scales = zeros(new long[] { rows, groups }, device: weight.device);
        var codes = zeros(new long[] { rows, columns }, ScalarType.Int8, device: weight.device);
        if (group <= 0)
        {
            scales = learn ? LearnedScales(weight, bits, 0, scaleType, hessian, grid)
                : searchClipping ? MseScales(weight, bits, 0, scaleType, grid) : Stored(FakeQuant.GroupAbsMax(weight, 0).Over(levels), scaleType);
        }

        // Blocks hold whole groups, so that a group's scales come from weights that have every earlier update.
        var blockSize = group > 0 ? group * Math.Max(1, GptqBlock / group) : GptqBlock;
        for (long start = 0; start < columns; start += blockSize)
        {
            var end = Math.Min(columns, start + blockSize);
            var block = weight.narrow(1, start, end - start).clone();
            var errors = zeros(new long[] { rows, end - start }, device: weight.device);
            var hinv = inverse.narrow(0, start, end - start).narrow(1, start, end - start);
            for (var i = 0L; i < end - start; i++)
            {
                var column = start + i;
                if (group > 0 && column % group == 0)
                {
                    var width = Math.Min(group, end - column);
                    var part = block.narrow(1, i, width);
                    // Learned: on the group's columns of H (its error on the columns after it is GPTQ's to compensate).
                    scales[TensorIndex.Colon, column / group] = learn ? LearnedScales(part, bits, 0, scaleType, hessian.narrow(0, column, width).narrow(1, column, width), grid).squeeze(1)
                        : searchClipping ? MseScales(part, bits, 0, scaleType, grid).squeeze(1) : Stored(part.abs().amax(new long[] { 1 }).Over(levels), scaleType);
                }

                var s = group > 0 ? scales[TensorIndex.Colon, column / group] : scales[TensorIndex.Colon, 0];
                var safe = where(s.EqualTo(0), ones_like(s), s);
                var x = block[TensorIndex.Colon, i];
                var q = FakeQuant.Round(x / safe, bits, grid).mul(s.NotEqualTo(0));
                codes[TensorIndex.Colon, column] = q.to(ScalarType.Int8);
                var error = (x - (FakeQuant.Level(q, grid) * s)) / hinv[i, i];
                if (i + 1 < end - start)
                {
                    block.narrow(1, i + 1, end - start - i - 1).sub_(error.unsqueeze(1) * hinv[i, TensorIndex.Slice(i + 1)].unsqueeze(0));
                }

                errors[TensorIndex.Colon, i] = error;
            }

            if (end < columns)
            {
                weight.narrow(1, end, columns - end).sub_(errors.matmul(inverse.narrow(0, start, end - start).narrow(1, end, columns - end)));
            }
        }

        return (codes, scales);
    }
}
