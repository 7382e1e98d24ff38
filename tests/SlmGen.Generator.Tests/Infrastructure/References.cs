using System;
using System.Collections.Immutable;
using System.IO;
using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Testing;

namespace SlmGen.Generator.Tests.Infrastructure;

/// <summary>
/// Metadata references for test compilations, taken from this process (the .NET runtime, TorchSharp and
/// SlmGen.Runtime that the test host loaded): nothing is fetched from NuGet at test time.
/// </summary>
internal static class References
{
    private static readonly Lazy<ImmutableArray<MetadataReference>> All = new(() =>
    {
        // Make sure the assemblies generated code needs are loaded.
        _ = typeof(SlmGen.SlmModel).Assembly;
        _ = typeof(TorchSharp.torch).Assembly;

        var trusted = ((string)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES")!).Split(Path.PathSeparator);
        var wanted = trusted.Where(p =>
        {
            var name = Path.GetFileNameWithoutExtension(p);
            return name.StartsWith("System", StringComparison.Ordinal)
                   || name is "mscorlib" or "netstandard" or "TorchSharp" or "SlmGen.Runtime";
        });
        return wanted.Distinct().Select(p => (MetadataReference)MetadataReference.CreateFromFile(p)).ToImmutableArray();
    });

    public static ImmutableArray<MetadataReference> ForGeneratedCode => All.Value;

    /// <summary>For the Roslyn testing package: no reference-assembly package, the references above instead.</summary>
    public static ReferenceAssemblies None { get; } = new("net10.0");
}
