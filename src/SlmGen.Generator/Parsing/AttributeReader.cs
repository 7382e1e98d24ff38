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

    /// <summary>The layer attributes (metadata names): each is an error on a class without [Model].</summary>
    public static readonly string[] LayerAttributes =
    {
        "SlmGen.TokenEmbeddingAttribute", "SlmGen.PositionsAttribute", "SlmGen.ContextFlattenAttribute", "SlmGen.DenseAttribute",
        "SlmGen.TransformerBlocksAttribute", "SlmGen.FinalNormAttribute", "SlmGen.LMHeadAttribute", "SlmGen.BudgetAttribute", "SlmGen.QuantizationAttribute",
    };

    /// <summary>SLM0014 for layer attributes on a type that has no [Model] on any of its parts.</summary>
    public static EquatableArray<DiagnosticInfo> StrayAttributes(GeneratorAttributeSyntaxContext context, CancellationToken ct)
    {
        if (context.TargetSymbol is not INamedTypeSymbol type || type.GetAttributes().Any(IsModelAttribute))
        {
            return EquatableArray<DiagnosticInfo>.Empty;
        }

        return context.Attributes
            .Select(a => DiagnosticInfo.Create(
                DiagnosticDescriptors.StrayLayerAttribute,
                LocationInfo.From(a.ApplicationSyntaxReference?.GetSyntax(ct)) ?? LocationInfo.From(context.TargetNode),
                ShortName(a.AttributeClass!),
                type.Name))
            .ToEquatableArray();
    }

    /// <summary><see cref="Read"/>, with any unexpected exception turned into SLM0013 at the class (never CS8785).</summary>
    public static ParsedSpec ReadGuarded(GeneratorAttributeSyntaxContext context, CancellationToken ct)
    {
        try
        {
            return Read(context, ct);
        }
        catch (System.OperationCanceledException)
        {
            throw;
        }
        catch (System.Exception ex)
        {
            var where = context.TargetNode is TypeDeclarationSyntax type ? LocationInfo.From(type.Identifier.GetLocation()) : LocationInfo.From(context.TargetNode);
            var diagnostic = DiagnosticInfo.Create(DiagnosticDescriptors.GeneratorFailure, where, context.TargetSymbol.Name, ex.GetType().Name, ex.Message);
            return new ParsedSpec(null, new[] { diagnostic }.ToEquatableArray());
        }
    }

    public static ParsedSpec Read(GeneratorAttributeSyntaxContext context, CancellationToken ct)
    {
        if (context.TargetSymbol is not INamedTypeSymbol type || context.TargetNode is not TypeDeclarationSyntax node)
        {
            return ParsedSpec.Nothing;
        }

        var attributes = type.GetAttributes()
            .Where(a => a.AttributeClass is { ContainingNamespace: { Name: "SlmGen", ContainingNamespace.IsGlobalNamespace: true } })
            .ToList();

        // A class declared in several parts is read once: at the part that carries [Model].
        var model = attributes.FirstOrDefault(IsModelAttribute);
        var modelSyntax = model?.ApplicationSyntaxReference?.GetSyntax(ct);
        if (model is null || modelSyntax is null || !node.Span.Contains(modelSyntax.Span) || modelSyntax.SyntaxTree != node.SyntaxTree)
        {
            return ParsedSpec.Nothing;
        }

        var problems = new List<DiagnosticInfo>();
        var shape = ClassShapeProblem(type, node);
        if (shape is not null)
        {
            problems.Add(DiagnosticInfo.Create(DiagnosticDescriptors.ClassShape, LocationInfo.From(node.Identifier.GetLocation()), type.Name, shape));
        }

        if (Identifiers.ClassNameProblem(Identifiers.AsWritten(node.Identifier.Text, node.Identifier.ValueText)) is { } nameProblem)
        {
            problems.Add(DiagnosticInfo.Create(DiagnosticDescriptors.InvalidName, LocationInfo.From(node.Identifier.GetLocation()), type.Name, "model class", " (" + nameProblem + ")"));
        }

        // Every SlmGen attribute must sit on this declaration: their order here is the order of the layers.
        foreach (var attribute in attributes)
        {
            var syntax = attribute.ApplicationSyntaxReference?.GetSyntax(ct);
            if (syntax is not null && (syntax.SyntaxTree != node.SyntaxTree || !node.Span.Contains(syntax.Span)))
            {
                problems.Add(DiagnosticInfo.Create(DiagnosticDescriptors.SplitDeclaration, LocationInfo.From(syntax), ShortName(attribute.AttributeClass!), type.Name));
            }
        }

        if (problems.Count > 0)
        {
            return new ParsedSpec(null, problems.ToEquatableArray());
        }

        var builder = new SpecBuilder(
            NamespaceOf(type),
            type.Name,
            SpecSource.Attributes,
            node.SyntaxTree.FilePath);
        builder.Set(SpecKeys.Declaration, "[Model]", LocationInfo.From(modelSyntax));
        CollectMembers(type, builder, ct);

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
                    builder.Vocab = args.Int(SettingsTable.Vocab, SpecKeys.Vocab, builder);
                    builder.Context = args.Int(SettingsTable.Context, SpecKeys.Context, builder);
                    builder.Dropout = args.Double(SettingsTable.Dropout, SpecKeys.Dropout, builder);
                    builder.EmbeddingDropout = args.Double(SettingsTable.EmbeddingDropout, SpecKeys.EmbeddingDropout, builder);
                    builder.Init = (InitScheme)args.Int(SettingsTable.Init, SpecKeys.Init, builder);
                    builder.PadVocabTo = args.Int(SettingsTable.PadVocabTo, SpecKeys.PadVocabTo, builder);
                    builder.Tokenizer = args.Text(SettingsTable.Tokenizer, SpecKeys.Tokenizer, builder) ?? string.Empty;
                    break;

                case "TokenEmbeddingAttribute":
                    builder.Set(SpecKeys.Embedding, "[TokenEmbedding]", args.Whole);
                    builder.Width = args.Int(SettingsTable.Dim, SpecKeys.Width, builder);
                    builder.BigramBuckets = args.Int(SettingsTable.BigramBuckets, SpecKeys.BigramBuckets, builder);
                    builder.BigramDim = args.Int(SettingsTable.BigramDim, SpecKeys.BigramDim, builder);
                    break;

                case "PositionsAttribute":
                    builder.Set(SpecKeys.Positions, "[Positions]", args.Whole);
                    builder.Positions = new PositionSpec(
                        (PositionKind)args.CtorInt(0, "Kind", SpecKeys.Positions, builder),
                        args.Int(SettingsTable.PositionLength, SpecKeys.PositionsLength, builder),
                        args.Double(SettingsTable.RopeBase, SpecKeys.RopeBase, builder));
                    break;

                case "ContextFlattenAttribute":
                {
                    var key = builder.NextLayer("[ContextFlatten]", args.Whole);
                    builder.Layers.Add(new FlattenSpec(builder.Layers.Count, args.Int(SettingsTable.Window, key + ".window", builder)));
                    break;
                }

                case "DenseAttribute":
                {
                    var key = builder.NextLayer("[Dense]", args.Whole);
                    var values = new SectionValues();
                    values.Set(SettingsTable.Units, args.CtorInt(0, "Units", key + ".units", builder)); // [Dense(64)]
                    foreach (var setting in SettingsTable.OfAttribute("Dense").Where(s => s != SettingsTable.Units))
                    {
                        values.Set(setting, args.Value(setting, key + "." + setting.SpecKey, builder));
                    }

                    builder.Layers.Add(SpecBinding.Dense(builder.Layers.Count, values));
                    break;
                }

                case "TransformerBlocksAttribute":
                {
                    var key = builder.NextLayer("[TransformerBlocks]", args.Whole);
                    builder.Layers.Add(SpecBinding.Transformer(builder.Layers.Count, args.Section("TransformerBlocks", key, builder)));
                    break;
                }

                case "FinalNormAttribute":
                    builder.Set(SpecKeys.FinalNorm, "[FinalNorm]", args.Whole);
                    builder.FinalNorm = new NormSpec((NormKind)args.CtorInt(0, "Kind", SpecKeys.FinalNorm, builder), args.Bool(SettingsTable.FinalNormBias, SpecKeys.FinalNorm + ".bias", builder));
                    break;

                case "LMHeadAttribute":
                    builder.Set(SpecKeys.Head, "[LMHead]", args.Whole);
                    builder.Head = SpecBinding.Head(args.Section("LMHead", SpecKeys.Head, builder));
                    break;

                case "QuantizationAttribute":
                    builder.Set(SpecKeys.Quantization, "[Quantization]", args.Whole);
                    builder.Quantization = SpecBinding.Quantization(args.Section("Quantization", SpecKeys.Quantization, builder));
                    break;

                case "BudgetAttribute":
                    builder.Set(SpecKeys.Budget, "[Budget]", args.Whole);
                    builder.Budget = SpecBinding.Budget(args.Section("Budget", SpecKeys.Budget, builder));
                    break;
            }
        }

        return new ParsedSpec(builder.Build(), EquatableArray<DiagnosticInfo>.Empty);
    }

    private static bool IsModelAttribute(AttributeData a) =>
        a.AttributeClass is { Name: "ModelAttribute", ContainingNamespace: { Name: "SlmGen", ContainingNamespace.IsGlobalNamespace: true } };

    private static string ShortName(INamedTypeSymbol attribute) =>
        attribute.Name.EndsWith("Attribute", System.StringComparison.Ordinal) ? attribute.Name.Substring(0, attribute.Name.Length - "Attribute".Length) : attribute.Name;

    /// <summary>The namespace as its symbols name it (no '@' escapes; the emitter escapes keywords).</summary>
    private static string NamespaceOf(INamedTypeSymbol type)
    {
        var parts = new List<string>();
        for (var ns = type.ContainingNamespace; ns is { IsGlobalNamespace: false }; ns = ns.ContainingNamespace)
        {
            parts.Insert(0, ns.Name);
        }

        return string.Join(".", parts);
    }

    /// <summary>The members the user declared (a clash with a generated member is reported after planning).</summary>
    private static void CollectMembers(INamedTypeSymbol type, SpecBuilder builder, CancellationToken ct)
    {
        foreach (var member in type.GetMembers())
        {
            ct.ThrowIfCancellationRequested();
            if (member.IsImplicitlyDeclared)
            {
                continue;
            }

            var location = LocationInfo.From(member.Locations.FirstOrDefault());
            if (member is IMethodSymbol { MethodKind: MethodKind.Constructor, IsStatic: false, Parameters.Length: 0 })
            {
                builder.UserMembers.Add(new UserMember(type.Name + "()", location));
            }
            else if (member is not IMethodSymbol { MethodKind: MethodKind.Constructor or MethodKind.StaticConstructor or MethodKind.Destructor })
            {
                builder.UserMembers.Add(new UserMember(member.Name, location));
            }
        }
    }

    /// <summary>Why a class declaration cannot receive the generated part, or null.</summary>
    internal static string? ClassShapeProblem(INamedTypeSymbol type, TypeDeclarationSyntax node)
    {
        if (node is RecordDeclarationSyntax)
        {
            return "it is a record; declare it as a 'partial class' (a model is a TorchSharp module)";
        }

        if (node is not ClassDeclarationSyntax)
        {
            return $"it is {(node is StructDeclarationSyntax ? "a struct" : node is InterfaceDeclarationSyntax ? "an interface" : "not a class")}; declare it as a 'partial class'";
        }

        if (node.ParameterList is not null)
        {
            return "it has a primary constructor; the generated part declares the model's parameterless constructor, so declare it without parameters";
        }

        if (type.IsFileLocal)
        {
            return "it is file-local ('file'), so the generated part in another file cannot extend it";
        }

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

        public int Int(Setting setting, string key, SpecBuilder builder) =>
            Named(setting.Property!, key, builder) is { Value: int i } ? i : System.Convert.ToInt32(setting.AttributeDefault, System.Globalization.CultureInfo.InvariantCulture);

        public string? Text(Setting setting, string key, SpecBuilder builder) =>
            Named(setting.Property!, key, builder) is { Value: string s } ? s : null;

        public long Long(Setting setting, string key, SpecBuilder builder) =>
            Named(setting.Property!, key, builder) switch
            {
                { Value: long l } => l,
                { Value: int i } => i,
                _ => System.Convert.ToInt64(setting.AttributeDefault, System.Globalization.CultureInfo.InvariantCulture),
            };

        public double Double(Setting setting, string key, SpecBuilder builder) =>
            Named(setting.Property!, key, builder) switch
            {
                { Value: double d } => d,
                { Value: float f } => f,
                { Value: int i } => i,
                _ => System.Convert.ToDouble(setting.AttributeDefault, System.Globalization.CultureInfo.InvariantCulture),
            };

        public EquatableArray<int> IntArray(Setting setting, string key, SpecBuilder builder) =>
            Named(setting.Property!, key, builder) is { Kind: TypedConstantKind.Array } array && !array.IsNull
                ? array.Values.Select(v => v.Value is int i ? i : 0).ToEquatableArray()
                : EquatableArray<int>.Empty;

        public EquatableArray<double> DoubleArray(Setting setting, string key, SpecBuilder builder) =>
            Named(setting.Property!, key, builder) is { Kind: TypedConstantKind.Array } array && !array.IsNull
                ? array.Values.Select(v => v.Value switch { double d => d, float f => f, int i => i, _ => 0.0 }).ToEquatableArray()
                : EquatableArray<double>.Empty;

        public bool Bool(Setting setting, string key, SpecBuilder builder) =>
            Named(setting.Property!, key, builder) is { Value: bool b } ? b : (bool)setting.AttributeDefault!;

        /// <summary>A setting's value by its declared type (a per-block list as an array; an enum as its number).</summary>
        public object Value(Setting setting, string key, SpecBuilder builder) => setting switch
        {
            { IsList: true, Type: SettingType.Number } => DoubleArray(setting, key, builder),
            { IsList: true } => IntArray(setting, key, builder),
            { Type: SettingType.Flag } => Bool(setting, key, builder),
            { Type: SettingType.Number } => Double(setting, key, builder),
            { AttributeDefault: long } => Long(setting, key, builder),
            { AttributeDefault: string } => Text(setting, key, builder) ?? string.Empty,
            _ => Int(setting, key, builder),
        };

        /// <summary>Every named argument of the attribute by its declaration, under <paramref name="key"/>.</summary>
        public SectionValues Section(string attribute, string key, SpecBuilder builder)
        {
            var values = new SectionValues();
            foreach (var setting in SettingsTable.OfAttribute(attribute))
            {
                values.Set(setting, Value(setting, key + "." + setting.SpecKey, builder));
            }

            return values;
        }

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

                if (pair.Value.IsNull)
                {
                    return null; // `HeadsPerBlock = null` says what the property's default says: not given
                }

                var argument = syntax?.ArgumentList?.Arguments.FirstOrDefault(a => a.NameEquals?.Name.Identifier.ValueText == name);
                builder.Set(key, ShortName + "." + name, LocationInfo.From(argument) ?? Whole);
                return pair.Value;
            }

            return null;
        }
    }
}
