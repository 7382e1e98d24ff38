using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;
using Microsoft.CodeAnalysis;
using SlmGen.Generator.Tests.Infrastructure;

namespace SlmGen.Generator.Tests;

/// <summary>
/// The time model's kernels cover every FLOP the cost model counts: for random valid designs of every lever, the
/// matmul and attention FLOPs of a training step's kernels (StepOps) equal the generated training FLOPs per token (per
/// prediction for flatten models) times the step's tokens, and a prefill's equal the forward FLOPs of a window with the
/// head at the last position — so no layer is missing from the time model and none is counted twice.
/// </summary>
public class StepOpsTests
{
    [Theory]
    [InlineData(9200, false)]
    [InlineData(9201, false)]
    [InlineData(9202, true)] // grouped heads, conditioned or not: training takes the loss's path, decoding every group's
    public void A_steps_kernels_carry_exactly_the_FLOPs_of_the_cost_model(int seed, bool grouped)
    {
        var compiled = RandomDesignRun.Compile(seed, 120, "S", recent: true, grouped: grouped);
        var run = compiled.Run;
        var fewer = 0;
        foreach (var descriptor in compiled.Models)
        {
            var plan = (IReadOnlyList<PlanStep>)descriptor.Type.GetProperty("PlanSteps")!.GetValue(null)!;
            var cost = descriptor.Cost;
            const int batch = 3;
            var ops = StepOps.Training(plan, batch, cost.Context, 4, cost.Parameters);
            var flops = ops.Where(o => o.Kind != OpKind.Memory).Sum(o => o.Flops * o.Count);
            var units = cost.PredictsEveryPosition ? batch * (double)cost.Context : batch;
            Assert.True(Math.Abs(flops - (cost.TrainingFlopsPerToken * units)) <= 1e-9 * flops, $"{descriptor.Name}: the step's kernels carry {flops:N0} FLOPs, the cost model {cost.TrainingFlopsPerToken * units:N0}\n{run.Costs(descriptor.FullName)}");
            Assert.All(ops, o => Assert.True(o.Bytes >= 0 && o.Launches >= 0 && o.Count >= 1));

            // The fused path (a profile measured with SlmGen's fused kernels) runs the same products with less memory
            // traffic — never more — and fewer launches, but for one: a biased layer's bias gradient is SlmGen's
            // column sum there, two kernels (partial sums, then their sum) where libtorch's reduction is one.
            var fusedOps = StepOps.Training(plan, batch, cost.Context, 4, cost.Parameters, fused: true);
            Assert.Equal(flops, fusedOps.Where(o => o.Kind != OpKind.Memory).Sum(o => o.Flops * o.Count), 6);
            var (launches, fusedLaunches) = (ops.Sum(o => (long)o.Launches * o.Count), fusedOps.Sum(o => (long)o.Launches * o.Count));
            var biasGradients = fusedOps.Where(o => o.Name.EndsWith(" bias gradient", StringComparison.Ordinal)).Sum(o => (long)o.Count);
            var (bytes, fusedBytes) = (ops.Sum(o => o.Bytes * o.Count), fusedOps.Sum(o => o.Bytes * o.Count));
            Assert.True(fusedLaunches <= launches + biasGradients && fusedBytes <= bytes, $"{descriptor.Name}: fused {fusedLaunches} launches, {fusedBytes:N0} bytes; unfused {launches}, {bytes:N0}; {biasGradients} bias gradients");
            fewer += fusedLaunches - biasGradients < launches && fusedBytes < bytes ? 1 : 0;

            if (cost.PredictsEveryPosition)
            {
                var prefill = StepOps.Decoding(plan, 1, cost.Context, 0, 4).Where(o => o.Kind != OpKind.Memory).Sum(o => o.Flops * o.Count);
                Assert.True(Math.Abs(prefill - cost.ForwardFlopsPerWindow(lastPositionOnly: true)) <= 1e-9 * prefill, $"{descriptor.Name}: prefill {prefill:N0} vs {cost.ForwardFlopsPerWindow(lastPositionOnly: true):N0}");
            }
        }

        Assert.True(fewer > compiled.Models.Count / 2, $"only {fewer} of {compiled.Models.Count} designs gain from the fused kernels in the time model's listing");
    }
}
