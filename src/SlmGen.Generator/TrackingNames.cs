namespace SlmGen.Generator;

/// <summary>Names of the tracked pipeline steps (the incremental-caching tests look them up).</summary>
internal static class TrackingNames
{
    public const string AttributeSpecs = nameof(AttributeSpecs);
    public const string YamlSpecs = nameof(YamlSpecs);
    public const string ProjectSettings = nameof(ProjectSettings);
    public const string TimeSettings = nameof(TimeSettings);
    public const string AllSpecs = nameof(AllSpecs);
    public const string Analyzed = nameof(Analyzed);
    public const string ModelOutputs = nameof(ModelOutputs);
    public const string Companions = nameof(Companions);
    public const string DeclaredTypes = nameof(DeclaredTypes);
    public const string EmittedOutputs = nameof(EmittedOutputs);
    public const string StrayAttributes = nameof(StrayAttributes);
    public const string Catalog = nameof(Catalog);
    public const string Diagnostics = nameof(Diagnostics);
    public const string References = nameof(References);
}
