using System;
using System.Collections.Generic;
using System.Linq;
using System.Reflection;

namespace SlmGen;

/// <summary>A generated model as the per-assembly catalog lists it.</summary>
/// <param name="Name">Class name.</param>
/// <param name="FullName">Namespace-qualified class name.</param>
/// <param name="Type">The generated type.</param>
/// <param name="Cost">Compile-time costs.</param>
/// <param name="Fingerprint">Spec fingerprint.</param>
/// <param name="Source">Where the spec was declared (attributes on a class, or a YAML file).</param>
/// <param name="Create">Creates an instance with fresh weights.</param>
public sealed record ModelDescriptor(string Name, string FullName, Type Type, ModelCost Cost, string Fingerprint, string Source, Func<SlmModel> Create);

/// <summary>Marks the generated catalog class of an assembly (emitted by the generator).</summary>
[AttributeUsage(AttributeTargets.Assembly, AllowMultiple = false)]
public sealed class SlmModelCatalogAttribute : Attribute
{
    /// <summary>Names the catalog class.</summary>
    public SlmModelCatalogAttribute(Type catalog) => Catalog = catalog;

    /// <summary>The generated catalog class (it has a static <c>Models</c> property).</summary>
    public Type Catalog { get; }
}

/// <summary>Lists the models an assembly generated, with their costs.</summary>
public static class ModelCatalog
{
    /// <summary>The generated models of <paramref name="assembly"/> (empty when it has none).</summary>
    public static IReadOnlyList<ModelDescriptor> For(Assembly assembly)
    {
        var attribute = assembly.GetCustomAttribute<SlmModelCatalogAttribute>();
        var property = attribute?.Catalog.GetProperty("Models", BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Static);
        return property?.GetValue(null) as IReadOnlyList<ModelDescriptor> ?? Array.Empty<ModelDescriptor>();
    }

    /// <summary>Finds a model by class name (case-insensitive) in <paramref name="assembly"/>.</summary>
    public static ModelDescriptor Find(Assembly assembly, string name) =>
        For(assembly).FirstOrDefault(m => string.Equals(m.Name, name, StringComparison.OrdinalIgnoreCase)
                                          || string.Equals(m.FullName, name, StringComparison.OrdinalIgnoreCase))
        ?? throw new ArgumentException(
            $"No generated model named '{name}' in {assembly.GetName().Name}. Known: {string.Join(", ", For(assembly).Select(m => m.Name))}.",
            nameof(name));
}
