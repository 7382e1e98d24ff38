using System;
using System.IO;
using System.Linq;
using System.Reflection;
using SlmGen.Generator.Model;
using SlmGen.Generator.Tests.Infrastructure;

namespace SlmGen.Generator.Tests;

/// <summary>The settings table is the one place defaults live: the runtime attributes, the YAML reader and the docs agree with it.</summary>
public class SettingsTableTests
{
    private const string Start = "<!-- settings-table:start -->\n";
    private const string End = "<!-- settings-table:end -->";

    [Fact]
    public void The_runtime_attributes_initialise_every_property_to_the_tables_default()
    {
        var checkedSettings = 0;
        foreach (var setting in SettingsTable.All.Where(s => s.Attribute is not null && s.Property is not null))
        {
            var type = typeof(SlmGen.ModelAttribute).Assembly.GetType("SlmGen." + setting.Attribute + "Attribute", throwOnError: true)!;
            var property = type.GetProperty(setting.Property!, BindingFlags.Public | BindingFlags.Instance);
            Assert.True(property is not null, $"{type.Name} has no property {setting.Property}");
            if (property!.SetMethod is null)
            {
                continue; // a constructor argument (Dense units, position and norm kinds): no initialiser to compare
            }

            var ctor = type.GetConstructors().OrderBy(c => c.GetParameters().Length).First();
            var instance = ctor.Invoke(ctor.GetParameters().Select(p => p.ParameterType.IsValueType ? Activator.CreateInstance(p.ParameterType) : null).ToArray());
            var value = property.GetValue(instance);
            var expected = Convert.ChangeType(setting.AttributeDefault, property.PropertyType.IsEnum ? typeof(int) : property.PropertyType, System.Globalization.CultureInfo.InvariantCulture);
            var actual = property.PropertyType.IsEnum ? Convert.ToInt32(value, System.Globalization.CultureInfo.InvariantCulture) : value;
            Assert.True(Equals(expected, actual), $"{type.Name}.{setting.Property} starts at {actual}, the table says {expected}");
            checkedSettings++;
        }

        Assert.True(checkedSettings >= 30, $"only {checkedSettings} settings checked");
    }

    [Fact]
    public void Every_public_attribute_property_is_in_the_table()
    {
        var attributes = typeof(SlmGen.ModelAttribute).Assembly.GetTypes()
            .Where(t => t.Namespace == "SlmGen" && t.IsSubclassOf(typeof(Attribute)) && t.Name != "SlmModelCatalogAttribute");
        foreach (var type in attributes)
        {
            var shortName = type.Name.Substring(0, type.Name.Length - "Attribute".Length);
            foreach (var property in type.GetProperties(BindingFlags.Public | BindingFlags.Instance | BindingFlags.DeclaredOnly))
            {
                Assert.True(SettingsTable.All.Any(s => s.Attribute == shortName && s.Property == property.Name), $"{type.Name}.{property.Name} is not in SettingsTable");
            }
        }
    }

    [Fact]
    public void The_yaml_keys_of_each_section_are_the_tables()
    {
        // A key the table has is accepted; one it does not have is SLM0021 with the table's list in the message.
        var run = GeneratorRun.Of(Array.Empty<(string, string)>(), new[] { ("/specs/s.yaml", "vocab: 8\ncontext: 4\nembedding: 4\nlayers:\n  - transformer: { layers: 1, heads: 1, sparsity: 2 }\n") });
        var unknown = Assert.Single(run.GeneratorDiagnostics, d => d.Id == "SLM0021");
        Assert.Contains(string.Join(", ", SettingsTable.KeysOf(SettingsTable.TransformerSection)), unknown.GetMessage(System.Globalization.CultureInfo.InvariantCulture));
    }

    [Fact]
    public void The_schema_doc_shows_the_table()
    {
        var path = Repo.Path("docs", "yaml-schema.md");
        var doc = File.ReadAllText(path).Replace("\r\n", "\n");
        var start = doc.IndexOf(Start, StringComparison.Ordinal) + Start.Length;
        var end = doc.IndexOf(End, StringComparison.Ordinal);
        Assert.True(start >= Start.Length && end > 0, "docs/yaml-schema.md has no settings-table markers");
        var expected = SettingsTable.MarkdownTable();
        if (Environment.GetEnvironmentVariable("SLMGEN_ACCEPT_SNAPSHOTS") == "1")
        {
            File.WriteAllText(path, doc.Substring(0, start) + expected + doc.Substring(end));
            return;
        }

        Assert.Equal(expected, doc.Substring(start, end - start));
    }
}
