using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using System.Threading;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using SlmGen.Generator.Diagnostics;
using SlmGen.Generator.Model;
using SlmGen.Generator.Costing;
using SlmGen.Generator.Planning;
using SlmGen.Generator.Validation;

namespace SlmGen.Generator.Parsing;

/// <summary>The models a C# type of the same name keeps from generating, and why (located at that type).</summary>
internal sealed record CompanionResult(EquatableArray<string> Blocked, EquatableArray<DiagnosticInfo> Diagnostics)
{
    public static readonly CompanionResult None = new(EquatableArray<string>.Empty, EquatableArray<DiagnosticInfo>.Empty);
}

/// <summary>
/// A model declared in YAML may be extended by a <c>partial class</c> of the same name in C# (the documented
/// way to add members). Any other C# type of that name — not a class, not partial, another base class, a
/// primary constructor, another accessibility, a member the generated parts declare — would make the
/// generated declaration fail to compile: such a model is not generated, and the C# type gets the diagnostic.
/// </summary>
internal static class CompanionCheck
{
    public static CompanionResult Run(ImmutableArray<ModelOutput> yamlModels, Compilation compilation, CancellationToken ct)
    {
        if (yamlModels.IsDefaultOrEmpty)
        {
            return CompanionResult.None;
        }

        var blocked = new List<string>();
        var diagnostics = new List<DiagnosticInfo>();
        foreach (var model in yamlModels)
        {
            ct.ThrowIfCancellationRequested();
            var type = compilation.Assembly.GetTypeByMetadataName(model.Entry.FullName);
            if (type is null)
            {
                continue;
            }

            var declarations = type.DeclaringSyntaxReferences.Select(r => r.GetSyntax(ct)).OfType<BaseTypeDeclarationSyntax>().ToList();
            var first = declarations.FirstOrDefault();
            var where = first is null ? null : LocationInfo.From(first.Identifier.GetLocation());
            var problem = type.TypeKind != TypeKind.Class
                ? $"it is a {type.TypeKind.ToString().ToLowerInvariant()}; a C# part of a YAML model is a 'partial class'"
                : declarations.OfType<TypeDeclarationSyntax>().Select(d => AttributeReader.ClassShapeProblem(type, d) ?? AccessibilityProblem(d)).FirstOrDefault(p => p is not null);
            if (problem is not null)
            {
                blocked.Add(model.Entry.FullName);
                diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.ClassShape, where, type.Name, $"the YAML spec {model.YamlSpec} declares this model, and {problem}"));
                continue;
            }

            var generated = new HashSet<string>(model.GeneratedMembers, System.StringComparer.Ordinal);
            foreach (var member in type.GetMembers().Where(m => !m.IsImplicitlyDeclared))
            {
                var name = member is IMethodSymbol { MethodKind: MethodKind.Constructor, IsStatic: false, Parameters.Length: 0 } ? type.Name + "()" : member.Name;
                if (generated.Contains(name))
                {
                    blocked.Add(model.Entry.FullName);
                    diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.MemberClash, LocationInfo.From(member.Locations.FirstOrDefault()) ?? where, type.Name, name));
                }
            }
        }

        return new CompanionResult(blocked.Distinct().ToEquatableArray(), diagnostics.ToEquatableArray());
    }

    /// <summary>The full name a top-level type declaration gives its type (namespaces from syntax, '@' escapes removed).</summary>
    public static string FullNameOf(BaseTypeDeclarationSyntax node)
    {
        var name = node.Identifier.ValueText;
        for (var parent = node.Parent; parent is BaseNamespaceDeclarationSyntax ns; parent = parent.Parent)
        {
            name = Identifiers.Unescape(ns.Name.ToString().Replace(" ", string.Empty)) + "." + name;
        }

        return name;
    }

    /// <summary>The generated declaration of a YAML model is public: a C# part may leave the accessibility out or say public.</summary>
    private static string? AccessibilityProblem(TypeDeclarationSyntax node) =>
        node.Modifiers.Any(m => m.IsKind(SyntaxKind.InternalKeyword) || m.IsKind(SyntaxKind.PrivateKeyword) || m.IsKind(SyntaxKind.ProtectedKeyword))
            ? "it is not public; the YAML spec's model is public (leave the accessibility out of the C# part, or say public)"
            : null;
}
