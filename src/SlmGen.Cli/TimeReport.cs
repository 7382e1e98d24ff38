using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using SlmGen.Timing;
using Spectre.Console;

namespace SlmGen.Cli;

/// <summary><c>slmgen costs --device-profile</c>: the time model's predictions for the models of specs (docs/time.md).</summary>
public static class TimeReport
{
    /// <summary>The plan steps of a generated model type, without instantiating it (its static <c>PlanSteps</c>).</summary>
    public static IReadOnlyList<PlanStep> Plan(ModelDescriptor descriptor) =>
        (IReadOnlyList<PlanStep>)descriptor.Type.GetProperty("PlanSteps")!.GetValue(null)!;

    /// <summary>A training step's prediction for a descriptor.</summary>
    public static PredictedTime Training(ModelDescriptor d, DeviceProfile profile, int batch, bool graphed = false, StepRecipe? recipe = null) =>
        TimeModel.Predict(StepOps.Training(Plan(d), batch, d.Cost.Context, profile.ElementBytes, d.Cost.Parameters, profile.FusedKernels, recipe), profile, graphed, training: true);

    /// <summary>
    /// The predictions as JSON (for <c>slmgen costs --json --device-profile</c>): the training step eager and (on CUDA)
    /// graphed at <paramref name="batch"/>, tokens/s, the components by time with their bound, and decoding at batch 1
    /// (a prefill of the decode context and one token after it; default half the context).
    /// </summary>
    public static System.Text.Json.Nodes.JsonObject Json(ModelDescriptor d, DeviceProfile profile, int batch, int? decodeContext, StepRecipe? recipe = null)
    {
        var cost = d.Cost;
        var eager = Training(d, profile, batch, recipe: recipe);
        var node = new System.Text.Json.Nodes.JsonObject
        {
            ["profile"] = profile.Device,
            ["profileMeasured"] = profile.Measured,
            ["batch"] = batch,
            ["eagerMsPerStep"] = eager.Seconds * 1e3,
            ["graphedMsPerStep"] = profile.Backend == "cuda" ? Training(d, profile, batch, graphed: true, recipe: recipe).Seconds * 1e3 : null,
            ["tokensPerSecond"] = batch * (double)cost.Context / eager.Seconds,
            ["kernels"] = eager.Kernels,
            ["components"] = new System.Text.Json.Nodes.JsonArray(eager.Components.Select(c => (System.Text.Json.Nodes.JsonNode)new System.Text.Json.Nodes.JsonObject
            {
                ["component"] = c.Component, ["ms"] = c.Seconds * 1e3, ["bound"] = c.Bound.ToString().ToLowerInvariant(), ["kernels"] = c.Kernels,
            }).ToArray()),
        };
        if (cost.PredictsEveryPosition)
        {
            var (prompt, cached) = DecodeLengths(cost.Context, decodeContext);
            node["decode"] = new System.Text.Json.Nodes.JsonObject
            {
                ["promptTokens"] = prompt,
                ["prefillMs"] = TimePrediction.Decoding(Plan(d), profile, 1, prompt, 0, d.Cost.Context).Seconds * 1e3,
                ["cachedPositions"] = cached,
                ["msPerToken"] = TimePrediction.Decoding(Plan(d), profile, 1, 1, cached, d.Cost.Context).Seconds * 1e3,
            };
        }

        return node;
    }

    /// <summary>The prefill's length and the cached positions of the token after it: the decode context (default half the context), within the context.</summary>
    private static (int Prompt, int Cached) DecodeLengths(int context, int? decodeContext)
    {
        var at = decodeContext ?? Math.Max(1, context / 2);
        return (Math.Max(1, Math.Min(at, context)), Math.Min(at, context - 1));
    }

    /// <summary>Prints the predictions.</summary>
    public static void Print(IReadOnlyList<string> specs, DeviceProfile profile, int batch, double? trainTokens, int? decodeContext, StepRecipe? recipe = null)
    {
        if (specs.Count == 1 && (specs[0].EndsWith(".csproj", StringComparison.OrdinalIgnoreCase) || System.IO.Directory.Exists(specs[0])))
        {
            throw new CliException("--device-profile takes YAML specs (a project's models: use the specs it builds).");
        }

        foreach (var d in SpecCompiler.Compile(specs).Models)
        {
            var cost = d.Cost;
            var eager = Training(d, profile, batch, recipe: recipe);
            var tokens = (double)batch * cost.Context;
            AnsiConsole.Write(new Rule($"[bold]{Markup.Escape(d.Name)}[/] on {Markup.Escape(profile.Device)} (profile: {Markup.Escape(profile.Measured)})").LeftJustified());
            var line = $"training step at batch {batch:N0} × {cost.Context:N0}: [bold]{eager.Seconds * 1e3:0.00} ms[/] eager ({tokens / eager.Seconds:N0} tokens/s; forward {eager.ForwardSeconds * 1e3:0.00}, backward {eager.BackwardSeconds * 1e3:0.00}, optimizer {eager.OptimizerSeconds * 1e3:0.00} ms; {eager.Kernels:N0} kernels)";
            if (profile.Backend == "cuda")
            {
                var graphed = Training(d, profile, batch, graphed: true, recipe: recipe);
                line += $"; {graphed.Seconds * 1e3:0.00} ms as one CUDA graph";
            }

            AnsiConsole.MarkupLine(line);
            if (trainTokens is { } n && n > 0)
            {
                AnsiConsole.MarkupLine($"{n:0.###e0} training tokens: {n / tokens * eager.Seconds / 3600:0.00} device-hours eager ({n / tokens:N0} steps)");
            }

            var table = new Table().Border(TableBorder.Simple).AddColumn("component").AddColumn(new TableColumn("ms/step").RightAligned()).AddColumn(new TableColumn("share").RightAligned())
                .AddColumn("bound").AddColumn(new TableColumn("kernels").RightAligned()).AddColumn(new TableColumn("share of FLOPs").RightAligned());
            var flops = cost.Components.GroupBy(c => c.Name).ToDictionary(g => g.Key, g => g.Sum(c => c.TrainingFlopsPerToken));
            foreach (var c in eager.Components.Take(12))
            {
                var share = flops.TryGetValue(c.Component, out var f) ? (f / (double)cost.TrainingFlopsPerToken).ToString("P1", CultureInfo.InvariantCulture) : "-";
                table.AddRow(Markup.Escape(c.Component), $"{c.Seconds * 1e3:0.000}", (c.Seconds / eager.Seconds).ToString("P1", CultureInfo.InvariantCulture), c.Bound.ToString().ToLowerInvariant(), c.Kernels.ToString("N0", CultureInfo.InvariantCulture), share);
            }

            AnsiConsole.Write(table);
            if (cost.PredictsEveryPosition)
            {
                var (prompt, cached) = DecodeLengths(cost.Context, decodeContext);
                var prefill = TimePrediction.Decoding(Plan(d), profile, 1, prompt, 0, d.Cost.Context);
                var token = TimePrediction.Decoding(Plan(d), profile, 1, 1, cached, d.Cost.Context);
                AnsiConsole.MarkupLine($"decoding at batch 1: prefill of {prompt:N0} tokens {prefill.Seconds * 1e3:0.00} ms; one token after {cached:N0} cached [bold]{token.Seconds * 1e3:0.000} ms[/] ({1 / token.Seconds:N0} tokens/s)");
            }

            AnsiConsole.WriteLine();
        }
    }
}
