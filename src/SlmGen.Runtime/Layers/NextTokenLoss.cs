using SlmGen.Native;
using static TorchSharp.torch;

namespace SlmGen.Layers;

/// <summary>
/// The training loss of a full (not grouped) head: the mean next-token cross-entropy of logits (…, V) over the real
/// vocabulary (the first <c>realVocab</c> columns; pad_vocab_to's ids take no probability), plus PaLM's z-loss
/// <c>zLoss · mean(logsumexp²)</c>. On CUDA with the fused kernels one kernel reads the logits in their dtype and the
/// backward writes their gradient directly (<see cref="FusedKernels.CrossEntropy"/>); otherwise the scores are cast to
/// fp32 and TorchSharp's cross-entropy runs. Both compute the loss in fp32 from the same logits.
/// </summary>
public static class NextTokenLoss
{
    /// <summary>The mean loss (a 0-d fp32 tensor) of <paramref name="logits"/> (…, V) against <paramref name="targets"/> (…).</summary>
    public static Tensor Mean(Tensor logits, Tensor targets, long realVocab, double zLoss = 0) => PerPosition(logits, targets, realVocab, zLoss).mean();

    /// <summary>
    /// Each position's loss (fp32, one per row of the flattened logits; what evaluation sums, and the mean's terms): on
    /// CUDA with the fused kernels one read of the logits in their dtype, without the fp32 copy and log-softmax of the
    /// whole batch.
    /// </summary>
    public static Tensor PerPosition(Tensor logits, Tensor targets, long realVocab, double zLoss = 0)
    {
        var flat = logits.reshape(-1, logits.shape[^1]);
        var ids = targets.reshape(-1);
        if (FusedKernels.CrossEntropyApplies(flat, ids))
        {
            return FusedKernels.CrossEntropy(flat, ids, realVocab, zLoss);
        }

        var scores = (realVocab < flat.shape[1] ? flat.narrow(1, 0, realVocab) : flat).to(ScalarType.Float32);
        var rows = nn.functional.cross_entropy(scores, ids, reduction: nn.Reduction.None);
        return zLoss == 0 ? rows : rows.Plus(scores.logsumexp(-1).Squared().Times(zLoss));
    }
}
