using System;
using static TorchSharp.torch;

namespace SlmGen.Training;

/// <summary>
/// The next-token cross-entropy of every position, with its backward pass, computed <c>chunk</c> positions at a
/// time: the model's body runs once (<see cref="SlmModel.Features"/>), then for each chunk the head and the loss run
/// and their backward follows at once, accumulating into the head's weights and the features' gradient — so the
/// (batch, positions, vocabulary) logits of the whole window never exist together, only one chunk's — and the
/// body's backward runs once from the gathered gradient. The loss and every gradient equal the full computation's to
/// float rounding (tested). Memory for logits falls from B·T·V to B·chunk·V values (and as much again for the
/// softmax the loss keeps).
/// </summary>
public static class ChunkedCrossEntropy
{
    /// <summary>Runs forward and backward; returns the mean loss (detached). Gradients accumulate into the parameters.</summary>
    /// <exception cref="ArgumentException">A model with one prediction per window, or a chunk below 1.</exception>
    public static Tensor Backward(SlmModel model, Tensor inputs, Tensor targets, int chunk, double zLoss = 0)
    {
        if (!model.PredictsEveryPosition)
        {
            throw new ArgumentException($"{model.GetName()} makes one prediction per window; its loss has no positions to chunk.");
        }

        if (chunk < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(chunk), chunk, "A chunk holds at least one position.");
        }

        var features = model.Features(inputs);
        using var detached = features.detach().requires_grad_(true);
        var t = features.shape[1];
        var count = (double)targets.numel();
        var total = zeros(1, dtype: ScalarType.Float32, device: features.device);
        for (long start = 0; start < t; start += chunk)
        {
            var length = Math.Min(chunk, t - start);
            using var scope = NewDisposeScope();
            var part = targets.narrow(1, start, length);
            var loss = model.Loss(detached.narrow(1, start, length), part, zLoss).Times(part.numel() / count);
            loss.backward();
            total.PlusInPlace(loss.detach());
        }

        features.backward(new[] { detached.grad! });
        return total;
    }
}
