using System;
using System.Linq;
using SlmGen.Data;
using SlmGen.Training;
using static TorchSharp.torch;

namespace SlmGen.Runtime.Tests;

/// <summary>Whole-split evaluation holds a batch's activations until the batch ends: its batch is sized by the cost report, and the score does not depend on it.</summary>
[HoldTensors]
public class EvaluatorMemoryTests
{
    [Fact]
    public void Whole_split_batches_fit_the_activation_budget_and_score_the_same()
    {
        foreach (var name in new[] { "SlmGen.Samples.LeverGqa", "SlmGen.Samples.DecodeBench", "SlmGen.Samples.BabyGpt" })
        {
            using var model = ModelCatalog.Find(typeof(SlmGen.Samples.BabyGpt).Assembly, name).Create();
            var perSequence = model.Cost.ActivationBytesPerSequenceFp32;
            var batch = Evaluator.BatchWithin(model, 32);
            Assert.InRange(batch, 1, 32);
            Assert.True(batch == 1 || batch * perSequence <= Evaluator.ActivationBudgetBytes, $"{name}: {batch} × {perSequence:N0}");
            Assert.True(batch == 32 || (batch + 1) * perSequence > Evaluator.ActivationBudgetBytes, $"{name}: {batch} is smaller than it needs to be");
        }

        Assert.Equal(4, Evaluator.BatchWithin(ModelCatalog.Find(typeof(SlmGen.Samples.BabyGpt).Assembly, "SlmGen.Samples.LeverGqa").Create(), 4)); // never more than asked

        manual_seed(3);
        using var small = ModelCatalog.Find(typeof(SlmGen.Samples.BabyGpt).Assembly, "SlmGen.Samples.LeverGqa").Create();
        var tokens = TestRuns.Shakespeare.Value.Validation.Take(small.Context * 7 + 5).ToArray();
        var one = Evaluator.Evaluate(small, tokens, EvalProtocol.Sequential(), Objective.EveryPosition, 1, CPU);
        var many = Evaluator.Evaluate(small, tokens, EvalProtocol.Sequential(), Objective.EveryPosition, 32, CPU);
        Assert.Equal(one.Tokens, many.Tokens);
        // Batches of 1 and 32 run different fp32 GEMM shapes, so the sums agree to float rounding (a few 1e-7
        // relative), not to the bit: 112.85453 vs 112.85454 was seen.
        Assert.Equal(one.Nll, many.Nll, 4);
    }
}
