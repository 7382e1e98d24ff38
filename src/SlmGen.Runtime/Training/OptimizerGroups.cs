using System;
using System.Collections.Generic;
using System.Linq;
using SlmGen.Layers;
using static TorchSharp.torch;

namespace SlmGen.Training;

/// <summary>One group of parameters that share an update rule: a learning rate (a multiple of the schedule's), a weight decay, AdamW or Muon.</summary>
/// <param name="Name">What it holds (logs and messages).</param>
/// <param name="LearningRateScale">The group's peak rate over the schedule's peak rate.</param>
/// <param name="WeightDecay">Decoupled weight decay.</param>
/// <param name="Muon">Muon's orthogonalised momentum instead of AdamW (matrices only).</param>
public sealed record ParameterGroup(string Name, double LearningRateScale, double WeightDecay, bool Muon);

/// <summary>
/// How a model's parameters are split into <see cref="ParameterGroup"/>s: the groups in buffer order and the group of
/// each parameter. Groups with the same rule are merged, so that plain AdamW keeps one decayed range (the matrices,
/// embeddings and head, in the model's order) and one undecayed range (vectors and gains) — the flat layout of the
/// checkpoints written before groups existed.
/// </summary>
public sealed class OptimizerGroups
{
    private readonly Func<string, Tensor, int> groupOf;

    private OptimizerGroups(IReadOnlyList<ParameterGroup> groups, Func<string, Tensor, int> groupOf)
    {
        Groups = groups;
        this.groupOf = groupOf;
    }

    /// <summary>The groups, in the order their ranges take in the flat buffers.</summary>
    public IReadOnlyList<ParameterGroup> Groups { get; }

    /// <summary>The index of the group of a parameter.</summary>
    public int Of(string name, Tensor parameter) => groupOf(name, parameter);

    /// <summary>AdamW for everything: matrices (two or more dimensions) decayed, vectors not.</summary>
    public static OptimizerGroups AdamW(AdamWSettings settings) => new(
        new[] { new ParameterGroup("matrices", 1, settings.WeightDecay, false), new ParameterGroup("vectors", 1, 0, false) },
        (_, p) => p.dim() >= 2 ? 0 : 1);

    /// <summary>The groups of a generated model under <paramref name="options"/>: its hidden matrices, embeddings, head and gains (<see cref="ParameterRoles"/>).</summary>
    public static OptimizerGroups For(SlmModel model, TrainingOptions options)
    {
        var peak = options.LearningRate;
        double Scale(double? rate) => rate is { } r ? (peak > 0 ? r / peak : 0) : 1;
        var decay = options.Optimizer.WeightDecay;
        var muon = options.OptimizerKind == OptimizerKind.Muon;
        var byRole = new Dictionary<ParameterRole, ParameterGroup>
        {
            [ParameterRole.Matrix] = muon ? new ParameterGroup("hidden matrices", Scale(options.Muon.LearningRate), options.Muon.WeightDecay, true) : new ParameterGroup("matrices", 1, decay, false),
            [ParameterRole.Embedding] = new ParameterGroup("embeddings", Scale(options.EmbeddingLearningRate), decay, false),
            [ParameterRole.Head] = new ParameterGroup("head", Scale(options.HeadLearningRate), decay, false),
            [ParameterRole.Gain] = new ParameterGroup("vectors and gains", Scale(options.GainLearningRate), 0, false),
        };

        // LoRA adapters train with the hidden matrices unless they have a rate of their own (then AdamW at that rate,
        // decayed like the matrices, also under Muon: the rank-r factors are not what Muon's orthogonalisation is for).
        byRole[ParameterRole.Adapter] = options.AdapterLearningRate is { } adapter
            ? new ParameterGroup("LoRA adapters", Scale(adapter), decay, false)
            : byRole[ParameterRole.Matrix] with { Name = "LoRA adapters" };

        // Merge the roles with one rule (their names joined), in the order matrices, adapters (where the model has
        // them), embeddings, head, gains.
        var roles = ParameterRoles.Of(model).ToDictionary(r => r.Name, r => r.Role, StringComparer.Ordinal);
        var groups = new List<ParameterGroup>();
        var index = new Dictionary<ParameterRole, int>();
        var order = roles.ContainsValue(ParameterRole.Adapter)
            ? new[] { ParameterRole.Matrix, ParameterRole.Adapter, ParameterRole.Embedding, ParameterRole.Head, ParameterRole.Gain }
            : new[] { ParameterRole.Matrix, ParameterRole.Embedding, ParameterRole.Head, ParameterRole.Gain };
        foreach (var role in order)
        {
            var g = byRole[role];
            var same = groups.FindIndex(x => x.LearningRateScale == g.LearningRateScale && x.WeightDecay == g.WeightDecay && x.Muon == g.Muon);
            if (same < 0)
            {
                groups.Add(g);
                index[role] = groups.Count - 1;
            }
            else
            {
                groups[same] = groups[same] with { Name = groups[same].Name + ", " + g.Name };
                index[role] = same;
            }
        }

        return new OptimizerGroups(groups, (name, _) => index[roles[name]]);
    }
}
