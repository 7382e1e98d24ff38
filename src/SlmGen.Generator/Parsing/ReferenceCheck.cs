using System.Collections.Generic;
using System.Linq;
using System.Threading;
using Microsoft.CodeAnalysis;
using SlmGen.Generator.Diagnostics;
using SlmGen.Generator.Model;

namespace SlmGen.Generator.Parsing;

/// <summary>Whether generated code can reach what it names through <c>global::</c>, and if not, why (located where possible).</summary>
internal sealed record ReferenceResult(bool Blocked, EquatableArray<DiagnosticInfo> Diagnostics)
{
    public static readonly ReferenceResult Fine = new(false, EquatableArray<DiagnosticInfo>.Empty);
}

/// <summary>
/// Generated code names everything as <c>global::System…</c>, <c>global::TorchSharp…</c> and <c>global::SlmGen…</c>.
/// Two things defeat that and no spelling can protect against them: a type named <c>System</c>, <c>TorchSharp</c> or
/// <c>SlmGen</c> in the global namespace (then <c>global::System</c> is ambiguous), and a TorchSharp or SlmGen.Runtime
/// reference under an extern alias (then <c>global::TorchSharp</c> does not exist). Either way no model is generated
/// and one SLM0025 says why, at the offending type where there is one, instead of compiler errors inside generated files.
/// </summary>
internal static class ReferenceCheck
{
    private static readonly (string Namespace, string Type, string Assembly)[] Needed =
    {
        ("System", "Object", "the .NET base library"),
        ("TorchSharp", "torch", "TorchSharp"),
        ("SlmGen", "SlmModel", "SlmGen.Runtime"),
    };

    public static ReferenceResult Run(Compilation compilation, CancellationToken ct)
    {
        var diagnostics = new List<DiagnosticInfo>();
        foreach (var (ns, type, assembly) in Needed)
        {
            ct.ThrowIfCancellationRequested();
            var members = compilation.GlobalNamespace.GetMembers(ns);
            foreach (var hiding in members.OfType<INamedTypeSymbol>())
            {
                var at = hiding.Locations.FirstOrDefault(l => l.IsInSource);
                diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.GlobalNameHidden, at is null ? null : LocationInfo.From(at),
                    $"the type '{hiding.Name}' in the global namespace{(at is null ? $" (from {hiding.ContainingAssembly?.Name})" : string.Empty)} has the name of the namespace {ns}, so global::{ns} in generated code is ambiguous; move the type into a namespace or rename it"));
            }

            var reachable = members.OfType<INamespaceSymbol>().Any(n => n.GetTypeMembers(type).Length > 0);
            if (!reachable && compilation.GetTypeByMetadataName(ns + "." + type) is null && ns == "System")
            {
                continue; // not a normal compilation; the compiler says so itself
            }

            if (!reachable)
            {
                diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.GlobalNameHidden, null,
                    $"{ns}.{type} is not in the global namespace: {assembly} is referenced under an extern alias, or not at all; generated code names global::{ns}. Reference {assembly} without an alias (or add 'global' to its Aliases)"));
            }
        }

        return diagnostics.Count == 0 ? ReferenceResult.Fine : new ReferenceResult(true, diagnostics.ToEquatableArray());
    }
}
