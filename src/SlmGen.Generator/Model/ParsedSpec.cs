namespace SlmGen.Generator.Model;

/// <summary>What a front-end read: a spec (null when it could not be read at all) and the diagnostics it met.</summary>
internal sealed record ParsedSpec(ModelSpec? Spec, EquatableArray<DiagnosticInfo> Diagnostics)
{
    public static readonly ParsedSpec Nothing = new(null, EquatableArray<DiagnosticInfo>.Empty);
}
