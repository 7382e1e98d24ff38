using System.Linq;
using Microsoft.CodeAnalysis;

namespace SlmGen.Generator.Model;

/// <summary>A diagnostic waiting to be reported: its descriptor, where, and the message arguments (all equatable).</summary>
internal sealed record DiagnosticInfo(DiagnosticDescriptor Descriptor, LocationInfo? Location, EquatableArray<string> Arguments)
{
    public static DiagnosticInfo Create(DiagnosticDescriptor descriptor, LocationInfo? location, params object?[] arguments) =>
        new(descriptor, location, arguments.Select(a => a?.ToString() ?? string.Empty).ToEquatableArray());

    public Diagnostic ToDiagnostic(Compilation? compilation) =>
        Diagnostic.Create(Descriptor, Location?.ToLocation(compilation) ?? Microsoft.CodeAnalysis.Location.None, Arguments.Cast<object>().ToArray());
}
