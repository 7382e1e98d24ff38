using System;
using System.Collections.Generic;
using System.Linq;
using TorchSharp.Modules;

namespace SlmGen.Layers;

/// <summary>What a parameter is to initialisation and to the optimizers that treat kinds apart (Muon takes the matrices only).</summary>
public enum ParameterRole
{
    /// <summary>A token-embedding, hashed-bigram or position table (looked up, not multiplied).</summary>
    Embedding,

    /// <summary>A matrix of the LM head.</summary>
    Head,

    /// <summary>A weight matrix of a hidden layer (attention, FFN, dense).</summary>
    Matrix,

    /// <summary>A LoRA adapter's matrix (the low-rank down and up projections of one application of a shared block).</summary>
    Adapter,

    /// <summary>A vector or a table of per-channel coefficients: norm scales and biases, query gains, branch scales, residual mixes, U-Net skip weights, a conditioned grouped head's gates.</summary>
    Gain,
}

/// <summary>The role of each parameter of a model, from its plan and the names its layers give.</summary>
public static class ParameterRoles
{
    /// <summary>The name a block gives its residual mix (2 × width: coefficients, not a matrix).</summary>
    public const string ResidualMix = "resid_mix";

    /// <summary>The name a transformer block gives its LoRA adapter sets (a segment of every adapter parameter's name).</summary>
    public const string Adapters = "lora";

    /// <summary>Every named parameter with its role.</summary>
    public static IEnumerable<(string Name, Parameter Parameter, ParameterRole Role)> Of(SlmModel model)
    {
        var plan = model.Plan;
        var embeddings = plan.Where(s => s is EmbeddingStep or PositionsStep).Select(s => s.Field).ToHashSet(StringComparer.Ordinal);
        var head = plan.OfType<HeadStep>().Single().Field;
        var bigramTables = plan.OfType<BigramStep>().Select(s => s.Field + ".embed.weight").ToHashSet(StringComparer.Ordinal);
        var gains = plan.OfType<StackStep>().Where(s => s.Skips > 0).Select(s => s.SkipWeightsField).ToHashSet(StringComparer.Ordinal);
        foreach (var (name, p) in model.named_parameters())
        {
            var owner = name.Split('.')[0];
            var role = embeddings.Contains(owner) || bigramTables.Contains(name) ? ParameterRole.Embedding
                : owner == head ? (p.dim() >= 2 && !name.EndsWith("." + GroupedHead.GateName, StringComparison.Ordinal) ? ParameterRole.Head : ParameterRole.Gain)
                : p.dim() < 2 || gains.Contains(owner) || name.EndsWith("." + ResidualMix, StringComparison.Ordinal) ? ParameterRole.Gain
                : Array.IndexOf(name.Split('.'), Adapters) >= 0 ? ParameterRole.Adapter
                : ParameterRole.Matrix;
            yield return (name, p, role);
        }
    }
}
