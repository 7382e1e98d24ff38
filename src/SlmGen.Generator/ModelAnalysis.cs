using System;
using System.Collections.Generic;
using System.Linq;
using SlmGen.Generator.Diagnostics;
using SlmGen.Generator.Emit;
using SlmGen.Generator.Model;
using SlmGen.Generator.Costing;
using SlmGen.Generator.Planning;
using SlmGen.Generator.Validation;

namespace SlmGen.Generator;

/// <summary>One generated file: its hint name and text.</summary>
internal sealed record GeneratedFile(string HintName, string Text);

/// <summary>What the catalog and the cost report need of one model (location-free).</summary>
internal sealed record CatalogEntry(
    string ClassName,
    string FullName,
    string TypeReference,
    string Source,
    string Fingerprint,
    ModelPlan Plan,
    ModelCosts Costs,
    EquatableArray<BudgetStatus> Budget)
{
    /// <summary>The tokenizer's declared compression (budget characters_per_token, or 1 for tokenizer: chars); 0 when unknown.</summary>
    public double CharactersPerToken { get; init; }
}

/// <summary>Everything generated for one model: location-free and equatable, so that its source-output step caches.</summary>
/// <param name="YamlSpec">The spec file of a model declared in YAML ("" for an attributed class).</param>
/// <param name="GeneratedMembers">The members the generated parts declare (a C# part of a YAML model must not declare them too).</param>
internal sealed record ModelOutput(CatalogEntry Entry, EquatableArray<GeneratedFile> Files, string YamlSpec, EquatableArray<string> GeneratedMembers);

/// <summary>A model after validation, planning, costing and budget checks: its output (null when nothing is generated) and its diagnostics.</summary>
internal sealed record AnalyzedModel(ModelOutput? Output, EquatableArray<DiagnosticInfo> Diagnostics);

/// <summary>
/// The single path every spec takes after its front-end: validate, resolve the plan, cost it, check budgets
/// and members, and emit. A guard turns any unexpected exception into a located SLM0013 for this model
/// alone, so that the other models still generate.
/// </summary>
internal static class ModelAnalysis
{
    public static AnalyzedModel Analyze(ParsedSpec parsed, BudgetSpec projectBudget, string defaultNamespaceProblem, TimeSettings? time = null)
    {
        var diagnostics = new List<DiagnosticInfo>(parsed.Diagnostics);
        var spec = parsed.Spec;
        if (spec is null)
        {
            return Done(null, diagnostics);
        }

        try
        {
            return Analyze(spec, projectBudget, defaultNamespaceProblem, time ?? TimeSettings.None, diagnostics);
        }
        catch (OperationCanceledException)
        {
            throw;
        }
        catch (Exception ex)
        {
            diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.GeneratorFailure, spec.Declaration, spec.FullName, ex.GetType().Name, ex.Message));
            return Done(null, diagnostics);
        }
    }

    private static AnalyzedModel Analyze(ModelSpec spec, BudgetSpec projectBudget, string defaultNamespaceProblem, TimeSettings time, List<DiagnosticInfo> diagnostics)
    {
        if (spec.Source == SpecSource.Yaml && !spec.Has(SettingsTable.Namespace.Key) && defaultNamespaceProblem.Length > 0)
        {
            diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.InvalidName, spec.Declaration, spec.Namespace, "namespace",
                $" (the project's RootNamespace: {defaultNamespaceProblem}; set namespace: in the spec or fix <RootNamespace>)"));
        }

        if (Identifiers.IsReservedFullName(spec.FullName))
        {
            diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.InvalidName, spec.Has(SettingsTable.Name.Key) ? spec.Where(SettingsTable.Name.Key) : spec.Declaration,
                spec.FullName, "model", " (generated code refers to a type or namespace of that name, which the model would hide; choose another name or namespace)"));
        }

        diagnostics.AddRange(SpecValidator.Validate(spec));
        if (HasErrors(diagnostics))
        {
            return Done(null, diagnostics);
        }

        var plan = Planner.Resolve(spec);
        var generated = new HashSet<string>(plan.GeneratedMembers(), StringComparer.Ordinal);
        if (generated.Contains(spec.ClassName))
        {
            diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.InvalidName, spec.Has(SettingsTable.Name.Key) ? spec.Where(SettingsTable.Name.Key) : spec.Declaration,
                spec.ClassName, "model class", " (the generated class has a member of that name, and C# forbids a member named like its class)"));
        }

        generated.Add(spec.ClassName + "()");
        foreach (var member in spec.UserMembers)
        {
            if (generated.Contains(member.Name))
            {
                diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.MemberClash, member.Location ?? spec.Declaration, spec.ClassName, member.Name));
            }
        }

        if (HasErrors(diagnostics))
        {
            return Done(null, diagnostics);
        }

        // Quantisation declared for parts the model does not have changes nothing: say so, at the setting.
        var q = spec.Quantization;
        var hasDense = plan.Steps.Any(s => s is DenseStep);
        var hasStack = plan.Steps.Any(s => s is StackStep);
        var tied = plan.Steps.OfType<HeadStep>().Any(h => h.Kind == HeadKind.Tied);
        foreach (var (part, bits, present, why) in new[]
                 {
                     ("dense", q.Dense, hasDense, "the model has no dense layers"),
                     ("attention", q.Attention, hasStack, "the model has no attention"),
                     ("mlp", q.Mlp, hasStack, "the model has no transformer FFN"),
                     ("head", q.Head, !tied, "the head is tied to the embedding; quantise it through quantization.embedding"),
                 })
        {
            if (bits > 0 && !present)
            {
                var key = SpecKeys.Quant(part);
                diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.NoEffect, spec.Where(key), spec.Display(key), why));
            }
        }

        if (!plan.Artifact.Quantizes)
        {
            foreach (var part in new[] { "group", "scales", "method" })
            {
                var key = SpecKeys.Quant(part);
                if (spec.Has(key))
                {
                    diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.NoEffect, spec.Where(key), spec.Display(key), "no part of the model is quantised (give a part bits)"));
                }
            }
        }

        // A value for the last block of a one-block stack is never read: the one block is the first (its own setting).
        foreach (var stack in spec.Layers.OfType<TransformerSpec>().Where(t => t.Layers == 1))
        {
            foreach (var suffix in new[] { ".heads_last", ".kv_heads_last", ".ffn_hidden_last", ".ffn_multiplier_last" })
            {
                if (spec.Has(stack.Key + suffix))
                {
                    diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.NoEffect, spec.Where(stack.Key + suffix), spec.Display(stack.Key + suffix),
                        "the stack has one block, so there is nothing to interpolate to; its one block takes the stack's first value (set that instead, or declare more blocks)"));
                }
            }
        }

        ModelCosts costs;
        try
        {
            costs = CostModel.Compute(plan);
        }
        catch (OverflowException)
        {
            diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.CostOverflow, spec.Declaration, spec.ClassName, "parameter, FLOP or memory count"));
            return Done(null, diagnostics);
        }

        var budget = spec.Budget.Over(projectBudget);
        if (budget.CharactersPerToken <= 0 && spec.Tokenizer == "chars")
        {
            budget = budget with { CharactersPerToken = 1 }; // a character tokenizer: one character a token
        }

        if (budget.TrainingTokens <= 0 && budget.EffectiveTrainingTokens > 0)
        {
            budget = budget with { TrainingTokens = budget.EffectiveTrainingTokens }; // declared in characters
        }

        var fingerprint = Fingerprint.Of(plan);
        var architectureJson = ArchitectureJson.Of(plan, fingerprint, costs.PredictsEveryPosition);
        try
        {
            costs = costs with { ArtifactBytes = ArtifactSize.Bytes(plan, architectureJson) };
        }
        catch (OverflowException)
        {
            diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.CostOverflow, spec.Declaration, spec.ClassName, "artifact byte count"));
            return Done(null, diagnostics);
        }

        diagnostics.AddRange(BudgetAnalyzer.Diagnose(spec, plan, costs, budget, architectureJson));
        var timeCheck = TimeBudget.Check(spec, plan, costs, budget, time);
        diagnostics.AddRange(timeCheck.Diagnostics);

        var files = new List<GeneratedFile>
        {
            new(Identifiers.HintName(plan.FullName, string.Empty), ModelEmitter.Emit(plan)),
            new(Identifiers.HintName(plan.FullName, "Costs"), CostsEmitter.Emit(plan, costs, fingerprint)),
        };
        if (plan.Source == SpecSource.Yaml)
        {
            files.Add(new(Identifiers.HintName(plan.FullName, "Declaration"), DeclarationEmitter.Emit(plan)));
        }

        var entry = new CatalogEntry(
            plan.ClassName,
            plan.FullName,
            Identifiers.Global(plan.Namespace, plan.ClassName),
            plan.SourceDescription,
            fingerprint,
            plan,
            costs,
            BudgetAnalyzer.Status(plan, costs, budget).Concat(timeCheck.Status).ToEquatableArray()) with { CharactersPerToken = budget.CharactersPerToken };
        return Done(new ModelOutput(entry, files.ToEquatableArray(), plan.Source == SpecSource.Yaml ? plan.SourcePath : string.Empty, generated.OrderBy(n => n, StringComparer.Ordinal).ToEquatableArray()), diagnostics);
    }

    private static bool HasErrors(List<DiagnosticInfo> diagnostics) =>
        diagnostics.Any(d => d.Descriptor.DefaultSeverity == Microsoft.CodeAnalysis.DiagnosticSeverity.Error);

    private static AnalyzedModel Done(ModelOutput? output, List<DiagnosticInfo> diagnostics) => new(output, diagnostics.ToEquatableArray());
}
