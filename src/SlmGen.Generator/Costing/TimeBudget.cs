using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using SlmGen.Generator.Diagnostics;
using SlmGen.Generator.Model;
using SlmGen.Generator.Planning;

namespace SlmGen.Generator.Costing;

/// <summary>
/// Time budgets at build time (docs/time.md): the time model (<see cref="TimeModel"/> over <see cref="StepOps"/>) on
/// the project's device profile predicts the training run (steps of <c>SlmGenTrainingBatch</c> full windows, eager as
/// `slmgen train` runs by default, or each one CUDA graph with <c>SlmGenTrainingGraphed</c>, as `--cuda-graphs` runs) and
/// the decoding of one token after a full context at batch 1.
/// </summary>
internal static class TimeBudget
{
    /// <summary>
    /// The time diagnostics (advice, budgets) and the budget lines of one model, from one prediction of its training
    /// step and of its decoded token on the project's profile (each made at most once, when something needs it).
    /// </summary>
    public static (IReadOnlyList<DiagnosticInfo> Diagnostics, IReadOnlyList<BudgetStatus> Status) Check(ModelSpec spec, ModelPlan plan, ModelCosts costs, BudgetSpec budget, TimeSettings time)
    {
        var predicted = time.Profile is { } profile ? new Predicted(plan, costs, profile, time.Batch, time.Graphed) : null;
        return (Diagnose(spec, costs, budget, time, predicted).ToList(), Status(costs, budget, predicted).ToList());
    }

    /// <summary>A model's predicted training step (at the project's batch) and decoded token (after a full context), made on first use.</summary>
    private sealed class Predicted
    {
        private readonly System.Lazy<PredictedTime> step;
        private readonly System.Lazy<PredictedTime> token;

        public Predicted(ModelPlan plan, ModelCosts costs, DeviceProfile profile, int batch, bool graphed)
        {
            Profile = profile;
            Batch = batch;
            Graphed = graphed;
            TokensPerStep = (double)batch * (costs.PredictsEveryPosition ? plan.Context : 1);
            Cached = System.Math.Max(0, plan.Context - 1);
            step = new(() => TimeModel.Predict(StepOps.Training(plan.Steps, batch, plan.Context, profile.ElementBytes, costs.Parameters, profile.FusedKernels), profile, graphed));
            token = new(() => TimeModel.Predict(StepOps.Decoding(plan.Steps, 1, 1, Cached, profile.ElementBytes, profile.FusedKernels, plan.Context), profile, graphed: false, training: false, prefill: Cached == 0));
        }

        public DeviceProfile Profile { get; }

        public int Batch { get; }

        /// <summary>Whether a training step is one CUDA graph (the project's SlmGenTrainingGraphed).</summary>
        public bool Graphed { get; }

        /// <summary>Tokens (or predictions) a training step takes.</summary>
        public double TokensPerStep { get; }

        /// <summary>The cached positions before the decoded token (a full context: the latency budget's worst case).</summary>
        public int Cached { get; }

        public PredictedTime Step => step.Value;

        public PredictedTime Token => token.Value;

        /// <summary>The training run the budget declares: <c>training_tokens</c> in steps of the project's batch (eager or graphed as the project says).</summary>
        public (double Steps, double Seconds) Run(BudgetSpec budget)
        {
            var steps = System.Math.Ceiling(budget.TrainingTokens / TokensPerStep);
            return (steps, steps * Step.Seconds);
        }
    }

    private static IEnumerable<DiagnosticInfo> Diagnose(ModelSpec spec, ModelCosts costs, BudgetSpec budget, TimeSettings time, Predicted? predicted)
    {
        if (predicted is not null && Disagreement(spec, costs, predicted) is { } advice)
        {
            yield return advice;
        }

        var wantsTraining = budget.MaxTrainingSeconds > 0;
        var wantsDecode = budget.MaxDecodeSeconds > 0;
        if (!wantsTraining && !wantsDecode)
        {
            yield break;
        }

        LocationInfo? At(string key) => spec.Has(SpecKeys.Budgets(key)) ? spec.Where(SpecKeys.Budgets(key)) : spec.Declaration;
        if (predicted is null)
        {
            if (time.Diagnostics.Count == 0)
            {
                yield return DiagnosticInfo.Create(DiagnosticDescriptors.BadDeviceProfile, At(wantsTraining ? "max_training_time" : "max_decode_latency"), "(none)",
                    $"{spec.ClassName} has a time budget but the project names no device profile");
            }

            yield break;
        }

        var profile = predicted.Profile;
        if (wantsTraining && budget.TrainingTokens > 0)
        {
            var (batch, step) = (predicted.Batch, predicted.Step);
            var (steps, seconds) = predicted.Run(budget);
            if (seconds > budget.MaxTrainingSeconds)
            {
                var dominant = step.Dominant;
                yield return DiagnosticInfo.Create(
                    DiagnosticDescriptors.OverTrainingTime, At("max_training_time"), spec.ClassName, Formatting.Count(budget.TrainingTokens), Duration(seconds),
                    profile.Device + (predicted.Graphed ? ", each step one CUDA graph" : ", eager"),
                    steps.ToString("N0", CultureInfo.InvariantCulture), batch.ToString(CultureInfo.InvariantCulture), (step.Seconds * 1e3).ToString("0.###", CultureInfo.InvariantCulture),
                    Formatting.Ratio(seconds / budget.MaxTrainingSeconds), Duration(budget.MaxTrainingSeconds),
                    $"{dominant.Component} takes {Formatting.Percent(dominant.Seconds / step.Seconds)} of a step ({dominant.Bound.ToString().ToLowerInvariant()}-bound)");
            }
        }
        else if (wantsTraining)
        {
            yield return DiagnosticInfo.Create(DiagnosticDescriptors.TrainingBudgetWithoutTokens, At("max_training_time"), spec.ClassName);
        }

        if (wantsDecode && costs.PredictsEveryPosition)
        {
            var (token, cached) = (predicted.Token, predicted.Cached);
            if (token.Seconds > budget.MaxDecodeSeconds)
            {
                var dominant = token.Dominant;
                yield return DiagnosticInfo.Create(
                    DiagnosticDescriptors.OverDecodeLatency, At("max_decode_latency"), spec.ClassName, (token.Seconds * 1e3).ToString("0.###", CultureInfo.InvariantCulture),
                    cached.ToString("N0", CultureInfo.InvariantCulture), profile.Device, Formatting.Ratio(token.Seconds / budget.MaxDecodeSeconds), (budget.MaxDecodeSeconds * 1e3).ToString("0.###", CultureInfo.InvariantCulture),
                    $"{dominant.Component} takes {Formatting.Percent(dominant.Seconds / token.Seconds)} of it ({dominant.Bound.ToString().ToLowerInvariant()}-bound, {token.Kernels:N0} kernels)");
            }
        }
    }

    /// <summary>
    /// Where the model stands against its time budgets on the project's device profile (the cost report's budget lines):
    /// the predicted training run in seconds against <c>max_training_time</c>, and one decoded token after a full
    /// context in microseconds against <c>max_decode_latency</c>; nothing without a profile.
    /// </summary>
    private static IEnumerable<BudgetStatus> Status(ModelCosts costs, BudgetSpec budget, Predicted? predicted)
    {
        if (predicted is null)
        {
            yield break;
        }

        if (budget.MaxTrainingSeconds > 0 && budget.TrainingTokens > 0 && costs.TrainingFlopsPerToken > 0)
        {
            yield return new BudgetStatus("training_seconds", predicted.Run(budget).Seconds, budget.MaxTrainingSeconds);
        }

        if (budget.MaxDecodeSeconds > 0 && costs.PredictsEveryPosition)
        {
            yield return new BudgetStatus("decode_latency_us", predicted.Token.Seconds * 1e6, budget.MaxDecodeSeconds * 1e6);
        }
    }

    /// <summary>SLM0207: the component whose share of the step's time is furthest from its share of the FLOPs (outside [½, 2]×, one of the two ≥ 10 %).</summary>
    private static DiagnosticInfo? Disagreement(ModelSpec spec, ModelCosts costs, Predicted predicted)
    {
        if (costs.TrainingFlopsPerToken <= 0)
        {
            return null;
        }

        var (step, profile, batch) = (predicted.Step, predicted.Profile, predicted.Batch);
        var flops = costs.Components.GroupBy(c => c.Name).ToDictionary(g => g.Key, g => (double)g.Sum(c => c.TrainingFlopsPerToken) / costs.TrainingFlopsPerToken);
        ComponentTime? worst = null;
        double worstFlops = 0, worstRatio = 0;
        foreach (var c in step.Components)
        {
            var timeShare = c.Seconds / step.Seconds;
            if (!flops.TryGetValue(c.Component, out var flopShare) || flopShare <= 0 || System.Math.Max(timeShare, flopShare) < 0.10)
            {
                continue;
            }

            var ratio = System.Math.Abs(System.Math.Log(timeShare / flopShare));
            if (ratio > System.Math.Log(2) && ratio > worstRatio)
            {
                (worst, worstFlops, worstRatio) = (c, flopShare, ratio);
            }
        }

        if (worst is null)
        {
            return null;
        }

        var dominant = step.Dominant;
        return DiagnosticInfo.Create(
            DiagnosticDescriptors.TimeDisagreesWithFlops, spec.Declaration, profile.Device, spec.ClassName, worst.Component, Formatting.Percent(worstFlops), Formatting.Percent(worst.Seconds / step.Seconds),
            batch.ToString(CultureInfo.InvariantCulture), worst.Bound.ToString().ToLowerInvariant(), dominant.Component, Formatting.Percent(dominant.Seconds / step.Seconds), dominant.Bound.ToString().ToLowerInvariant());
    }

    private static string Duration(double seconds) => seconds switch
    {
        >= 86400 => (seconds / 3600).ToString("0.#", CultureInfo.InvariantCulture) + " h",
        >= 3600 => (seconds / 3600).ToString("0.##", CultureInfo.InvariantCulture) + " h",
        >= 60 => (seconds / 60).ToString("0.#", CultureInfo.InvariantCulture) + " min",
        _ => seconds.ToString("0.###", CultureInfo.InvariantCulture) + " s",
    };
}
