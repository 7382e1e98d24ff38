using Microsoft.CodeAnalysis.CSharp.Testing;
using Microsoft.CodeAnalysis.Testing;

namespace SlmGen.Generator.Tests.Infrastructure;

/// <summary>
/// The Roslyn testing package's generator test, set up for SlmGen: references from this process (no NuGet at
/// test time), generated sources not compared unless a test adds them.
/// </summary>
internal sealed class GeneratorTest : CSharpSourceGeneratorTest<ModelGenerator, DefaultVerifier>
{
    public GeneratorTest(string source, bool checkGeneratedSources = false)
    {
        ReferenceAssemblies = References.None;
        TestState.AdditionalReferences.AddRange(References.ForGeneratedCode);
        TestState.Sources.Add(("/0/Model.cs", source));
        if (!checkGeneratedSources)
        {
            TestBehaviors |= TestBehaviors.SkipGeneratedSourcesCheck;
        }
    }
}
