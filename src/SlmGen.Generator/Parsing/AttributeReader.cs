using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using System.Threading;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using SlmGen.Generator.Diagnostics;
using SlmGen.Generator.Model;

namespace SlmGen.Generator.Parsing;

/// <summary>The attribute front-end: reads [Model] and the layer attributes of a class into a <see cref="ModelSpec"/>.</summary>
internal static class AttributeReader
{
    public const string ModelAttribute = "SlmGen.ModelAttribute";

    public static ParsedSpec Read(GeneratorAttributeSyntaxContext context, CancellationToken ct)
    {
        if (context.TargetSymbol is not INamedTypeSymbol type || context.TargetNode is not ClassDeclarationSyntax node)
        {
            return ParsedSpec.Nothing;
        }

        var attributes = type.GetAttributes()
            .Where(a => a.AttributeClass is { ContainingNamespace: { Name: "SlmGen", ContainingNamespace.IsGlobalNamespace: true } })
            .ToList();

        // A class declared in several parts is read once: at the part that carries [Model].
        var model = attributes.FirstOrDefault(a => a.AttributeClass!.Name == "ModelAttribute");
        var modelSyntax = model?.ApplicationSyntaxReference?.GetSyntax(ct);
        if (model is null || modelSyntax is null || !node.Span.Contains(modelSyntax.Span) || modelSyntax.SyntaxTree != node.SyntaxTree)
        {
            return ParsedSpec.Nothing;
        }

        var shape = ClassShapeProblem(type, node);
        if (shape is not null)
        {
            var diagnostic = DiagnosticInfo.Create(DiagnosticDescriptors.ClassShape, LocationInfo.From(node.Identifier.GetLocation()), type.Name, shape);
            return new ParsedSpec(null, new[] { diagnostic }.ToEquatableArray());
        }

        var builder = new SpecBuilder(
            type.ContainingNamespace.IsGlobalNamespace ? string.Empty : type.ContainingNamespace.ToDisplayString(),
            type.Name,
            SpecSource.Attributes,
            node.SyntaxTree.FilePath);
        builder.Set(SpecKeys.Declaration, "[Model]", LocationInfo.From(modelSyntax));

        foreach (var attribute in attributes)
        {
            ct.ThrowIfCancellationRequested();
            if (attribute.AttributeConstructor is null || attribute.ConstructorArguments.Any(a => a.Kind == TypedConstantKind.Error))
            {
                continue; // the compiler reports the bad attribute itself
            }

            var syntax = attribute.ApplicationSyntaxReference?.GetSyntax(ct) as AttributeSyntax;
            var args = new Args(attribute, syntax);
            switch (attribute.AttributeClass!.Name)
            {
                case "ModelAttribute":
                    builder.Vocab = args.Int("Vocab", SpecKeys.Vocab, builder);
                    builder.Context = args.Int("Context", SpecKeys.Context, builder);
                    builder.Dropout = args.Double("Dropout", SpecKeys.Dropout, builder, 0);
                    builder.EmbeddingDropout = args.Double("EmbeddingDropout", SpecKeys.EmbeddingDropout, builder, -1);
                    builder.Init = (InitScheme)args.Int("Init", SpecKeys.Init, builder);
                    break;

                case "TokenEmbeddingAttribute":
                    builder.Set(SpecKeys.Embedding, "[TokenEmbedding]", args.Whole);
                    builder.Width = args.Int("Dim", SpecKeys.Width, builder);
                    break;

                case "PositionsAttribute":
                    builder.Set(SpecKeys.Positions, "[Positions]", args.Whole);
                    builder.Positions = new PositionSpec(
                        (PositionKind)args.CtorInt(0, "Kind", SpecKeys.Positions, builder),
                        args.Int("Length", SpecKeys.PositionsLength, builder),
                        args.Double("RopeBase", SpecKeys.RopeBase, builder, 0));
                    break;

                case "ContextFlattenAttribute":
                {
                    var key = builder.NextLayer("[ContextFlatten]", args.Whole);
                    builder.Layers.Add(new FlattenSpec(builder.Layers.Count, args.Int("Window", key + ".window", builder)));
                    break;
                }

                case "DenseAttribute":
                {
                    var key = builder.NextLayer("[Dense]", args.Whole);
                    builder.Layers.Add(new DenseSpec(
                        builder.Layers.Count,
                        args.CtorInt(0, "Units", key + ".units", builder),
                        (Act)args.Int("Activation", key + ".activation", builder, (int)Act.Relu),
                        args.Bool("Bias", key + ".bias", builder, true),
                        args.Double("Dropout", key + ".dropout", builder, -1)));
                    break;
                }

                case "TransformerBlocksAttribute":
                {
                    var key = builder.NextLayer("[TransformerBlocks]", args.Whole);
                    builder.Layers.Add(new TransformerSpec(
                        builder.Layers.Count,
                        args.Int("Layers", key + ".layers", builder),
                        args.Int("Repeat", key + ".repeat", builder),
                        args.Int("Heads", key + ".heads", builder),
                        args.Int("FfnHidden", key + ".ffn_hidden", builder),
                        args.Double("FfnMultiplier", key + ".ffn_multiplier", builder, 0),
                        (Act)args.Int("Activation", key + ".activation", builder, (int)Act.Gelu),
                        (NormKind)args.Int("Norm", key + ".norm", builder, (int)NormKind.LayerNorm),
                        args.Bool("NormBias", key + ".norm_bias", builder, true),
                        args.Bool("PreNorm", key + ".pre_norm", builder, true),
                        args.Bool("PackedQkv", key + ".packed_qkv", builder, true),
                        args.Bool("AttentionBias", key + ".attention_bias", builder, true),
                        args.Bool("FfnBias", key + ".ffn_bias", builder, true),
                        args.Double("Dropout", key + ".dropout", builder, -1),
                        args.Double("FfnDropout", key + ".ffn_dropout", builder, 0)));
                    break;
                }

                case "FinalNormAttribute":
                    builder.Set(SpecKeys.FinalNorm, "[FinalNorm]", args.Whole);
                    builder.FinalNorm = new NormSpec((NormKind)args.CtorInt(0, "Kind", SpecKeys.FinalNorm, builder), args.Bool("Bias", SpecKeys.FinalNorm + ".bias", builder, true));
                    break;

                case "LMHeadAttribute":
                    builder.Set(SpecKeys.Head, "[LMHead]", args.Whole);
                    builder.Head = new HeadSpec(
                        args.Bool("TiedToEmbedding", SpecKeys.HeadTied, builder, false),
                        args.Bool("Bias", SpecKeys.HeadBias, builder, false),
                        args.Int("Rank", SpecKeys.HeadRank, builder));
                    break;

                case "BudgetAttribute":
                    builder.Set(SpecKeys.Budget, "[Budget]", args.Whole);
                    builder.Budget = new BudgetSpec(
                        args.Long("MaxParameters", SpecKeys.Budgets("max_parameters"), builder),
                        args.Long("MaxForwardFlopsPerToken", SpecKeys.Budgets("max_forward_flops_per_token"), builder),
                        args.Double("MaxTrainingFlops", SpecKeys.Budgets("max_training_flops"), builder, 0),
                        args.Long("TrainingTokens", SpecKeys.Budgets("training_tokens"), builder),
                        args.Long("MaxWeightBytes", SpecKeys.Budgets("max_weight_bytes"), builder),
                        args.Long("MaxKvCacheBytes", SpecKeys.Budgets("max_kv_cache_bytes"), builder));
                    break;
            }
        }

        return new ParsedSpec(builder.Build(), EquatableArray<DiagnosticInfo>.Empty);
    }

    private static string? ClassShapeProblem(INamedTypeSymbol type, ClassDeclarationSyntax node)
    {
        if (!node.Modifiers.Any(SyntaxKind.PartialKeyword))
        {
            return "it must be declared 'partial' so that the generator can add the module code";
        }

        if (type.ContainingType is not null)
        {
            return "it is nested in another type; declare it at namespace level";
        }

        if (type.IsGenericType)
        {
            return "it is generic";
        }

        if (type.IsStatic || type.IsAbstract)
        {
            return "it is static or abstract";
        }

        if (type.BaseType is { SpecialType: not SpecialType.System_Object } baseType && baseType.ToDisplayString() != "SlmGen.SlmModel")
        {
            return $"it derives from '{baseType.ToDisplayString()}'; the generated part derives from SlmGen.SlmModel";
        }

        return null;
    }

    /// <summary>The arguments of one attribute application, with their locations.</summary>
    private sealed class Args
    {
        private readonly AttributeData data;
        private readonly AttributeSyntax? syntax;

        public Args(AttributeData data, AttributeSyntax? syntax)
        {
            this.data = data;
            this.syntax = syntax;
            Whole = LocationInfo.From(syntax);
        }

        public LocationInfo? Whole { get; }

        private string ShortName => data.AttributeClass!.Name.Substring(0, data.AttributeClass.Name.Length - "Attribute".Length);

        public int Int(string name, string key, SpecBuilder builder, int fallback = 0) =>
            Named(name, key, builder) is { Value: int i } ? i : fallback;

        public long Long(string name, string key, SpecBuilder builder) =>
            Named(name, key, builder) switch
            {
                { Value: long l } => l,
                { Value: int i } => i,
                _ => 0,
            };

        public double Double(string name, string key, SpecBuilder builder, double fallback) =>
            Named(name, key, builder) switch
            {
                { Value: double d } => d,
                { Value: float f } => f,
                { Value: int i } => i,
                _ => fallback,
            };

        public bool Bool(string name, string key, SpecBuilder builder, bool fallback) =>
            Named(name, key, builder) is { Value: bool b } ? b : fallback;

        public int CtorInt(int index, string name, string key, SpecBuilder builder)
        {
            if (index >= data.ConstructorArguments.Length)
            {
                return 0;
            }

            var location = syntax?.ArgumentList is { } list && index < list.Arguments.Count
                ? LocationInfo.From(list.Arguments[index])
                : Whole;
            builder.Set(key, ShortName + "." + name, location);
            return data.ConstructorArguments[index].Value is int i ? i : 0;
        }

        private TypedConstant? Named(string name, string key, SpecBuilder builder)
        {
            foreach (var pair in data.NamedArguments)
            {
                if (pair.Key != name || pair.Value.Kind == TypedConstantKind.Error)
                {
                    continue;
                }

                var argument = syntax?.ArgumentList?.Arguments.FirstOrDefault(a => a.NameEquals?.Name.Identifier.ValueText == name);
                builder.Set(key, ShortName + "." + name, LocationInfo.From(argument) ?? Whole);
                return pair.Value;
            }

            return null;
        }
    }
}
