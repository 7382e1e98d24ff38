using System;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Text.Json;

namespace SlmGen.Build.Tests;

/// <summary>
/// Builds and runs consumer projects outside the repository: one that references SlmGen as projects and
/// one that restores the packed package from a local folder. Each declares a model with attributes and one
/// with a YAML spec, so the generator (and YamlDotNet inside the compiler) must work in both set-ups, and
/// TorchSharp must load (the native patch). The repository's src/ is copied to a scratch folder first, so
/// the builds here never touch the outputs of the build that runs the tests.
/// </summary>
[Collection("consumer builds")]
public sealed class ConsumerBuildTests : IClassFixture<ConsumerBuildTests.Workspace>
{
    private readonly Workspace workspace;

    public ConsumerBuildTests(Workspace workspace) => this.workspace = workspace;

    [Fact]
    public void A_consumer_referencing_SlmGen_as_projects_builds_and_gets_its_models()
    {
        var dir = workspace.NewConsumer("ByProject", $"""
            <Project Sdk="Microsoft.NET.Sdk">
              <Import Project="{workspace.Copy}/build/SlmGen.ProjectReference.props" />
              <PropertyGroup>
                <OutputType>Exe</OutputType>
                <TargetFramework>net10.0</TargetFramework>
                <Nullable>enable</Nullable>
                <RootNamespace>Consumer</RootNamespace>
              </PropertyGroup>
              <Import Project="{workspace.Copy}/build/SlmGen.ProjectReference.targets" />
            </Project>
            """);
        AssertBuildsAndRuns(dir);
    }

    [Fact]
    public void A_consumer_restoring_the_packed_package_builds_and_gets_its_models()
    {
        var dir = workspace.NewConsumer("ByPackage", $"""
            <Project Sdk="Microsoft.NET.Sdk">
              <PropertyGroup>
                <OutputType>Exe</OutputType>
                <TargetFramework>net10.0</TargetFramework>
                <Nullable>enable</Nullable>
                <RootNamespace>Consumer</RootNamespace>
              </PropertyGroup>
              <ItemGroup>
                <PackageReference Include="SlmGen" Version="{workspace.PackageVersion}" />
              </ItemGroup>
            </Project>
            """);
        File.WriteAllText(Path.Combine(dir, "nuget.config"), $"""
            <?xml version="1.0" encoding="utf-8"?>
            <configuration>
              <packageSources>
                <add key="slmgen-local" value="{workspace.Feed}" />
              </packageSources>
            </configuration>
            """);
        AssertBuildsAndRuns(dir);
    }

    [Fact]
    public void Budget_warnings_fail_the_build_as_errors_and_can_be_suppressed()
    {
        var dir = workspace.NewConsumer("Budgets", $"""
            <Project Sdk="Microsoft.NET.Sdk">
              <Import Project="{workspace.Copy}/build/SlmGen.ProjectReference.props" />
              <PropertyGroup>
                <TargetFramework>net10.0</TargetFramework>
                <RootNamespace>Consumer</RootNamespace>
                <SlmGenMaxParameters>40k</SlmGenMaxParameters>
              </PropertyGroup>
              <Import Project="{workspace.Copy}/build/SlmGen.ProjectReference.targets" />
            </Project>
            """);
        File.Delete(Path.Combine(dir, "Program.cs"));
        File.WriteAllText(Path.Combine(dir, "Declared.cs"), """
            using SlmGen;
            namespace Consumer;
            [Model(Vocab = 50, Context = 16)]
            [TokenEmbedding(Dim = 24)]
            [ContextFlatten(Window = 8)]
            [Dense(256, Activation = Act.Gelu)]
            [LMHead(Bias = true)]
            public partial class Declared { }
            """);
        File.WriteAllText(Path.Combine(dir, "specs", "from-yaml.yaml"), """
            vocab: 65
            context: 64
            embedding: 64
            layers:
              - transformer: { layers: 2, heads: 4 }
            head: tied
            budget:
              max_parameters: 50k
            """);

        // 1. Over budget: a warning at each declaration with the figure, the budget, the ratio and the largest component.
        var plain = Workspace.Run("dotnet", "build -nologo -v:q -p:EnforceCodeStyleInBuild=false", dir);
        Assert.True(plain.Code == 0, plain.Output);
        AssertMatches(@"Declared\.cs\(3,2\): warning SLM0100: Declared has 63,458 parameters, 1\.59x its budget of 40,000; 78% of them are in the dense layers", plain.Output);
        AssertMatches(@"from-yaml\.yaml\(1,1\): warning SLM0100: FromYaml has 104,128 parameters, 2\.08x its budget of 50,000; 64% of them are in the transformer MLPs", plain.Output);

        // Each build below changes only properties or config files: touch the source so the compiler runs again.
        void Touch() => File.SetLastWriteTimeUtc(Path.Combine(dir, "Declared.cs"), DateTime.UtcNow);

        // 2. TreatWarningsAsErrors turns an over-budget design into a failed build.
        Touch();
        var strict = Workspace.Run("dotnet", "build -nologo -v:q -p:TreatWarningsAsErrors=true -p:WarningsNotAsErrors=NU1603", dir);
        Assert.NotEqual(0, strict.Code);
        Assert.Contains("error SLM0100", strict.Output);

        // 3. NoWarn suppresses it for both front-ends.
        Touch();
        var noWarn = Workspace.Run("dotnet", "build -nologo -v:q -p:TreatWarningsAsErrors=true -p:WarningsNotAsErrors=NU1603 -p:NoWarn=SLM0100%3BNU1603%3BCS1591", dir);
        Assert.True(noWarn.Code == 0, noWarn.Output);
        Assert.DoesNotContain("SLM0100", noWarn.Output);

        // 4. A global analyzer config sets the severity for both front-ends.
        File.WriteAllText(Path.Combine(dir, ".globalconfig"), "is_global = true\ndotnet_diagnostic.SLM0100.severity = none\n");
        Touch();
        var global = Workspace.Run("dotnet", "build -nologo -v:q -p:TreatWarningsAsErrors=true -p:WarningsNotAsErrors=NU1603", dir);
        Assert.True(global.Code == 0, global.Output);
        Assert.DoesNotContain("SLM0100", global.Output);
        File.Delete(Path.Combine(dir, ".globalconfig"));

        // 5. #pragma in the C# file and a [*.cs] .editorconfig section act on the attribute model only.
        var declared = Path.Combine(dir, "Declared.cs");
        File.WriteAllText(declared, "#pragma warning disable SLM0100\n" + File.ReadAllText(declared));
        Touch();
        var pragma = Workspace.Run("dotnet", "build -nologo -v:q", dir);
        Assert.True(pragma.Code == 0, pragma.Output);
        Assert.DoesNotContain("Declared has", pragma.Output);
        Assert.Contains("FromYaml has 104,128 parameters", pragma.Output);
        File.WriteAllText(declared, File.ReadAllText(declared).Replace("#pragma warning disable SLM0100\n", string.Empty));
        File.WriteAllText(Path.Combine(dir, ".editorconfig"), "root = true\n[*.cs]\ndotnet_diagnostic.SLM0100.severity = none\n");
        Touch();
        var editorconfig = Workspace.Run("dotnet", "build -nologo -v:q", dir);
        Assert.True(editorconfig.Code == 0, editorconfig.Output);
        Assert.DoesNotContain("Declared has", editorconfig.Output);
        Assert.Contains("FromYaml has 104,128 parameters", editorconfig.Output);
    }

    [Fact]
    public void The_template_and_the_tool_install_from_the_feed_and_work_as_the_readme_says()
    {
        // dotnet new slmgen, from the packed template (in a hive of its own, so the machine's templates are untouched).
        var hive = Path.Combine(workspace.Root, "hive");
        var templates = Directory.GetFiles(workspace.Feed, "SlmGen.Templates.*.nupkg").Single();
        var install = Workspace.Run("dotnet", $"new install \"{templates}\" --debug:custom-hive \"{hive}\"", workspace.Root);
        Assert.True(install.Code == 0, install.Output);
        var created = Workspace.Run("dotnet", $"new slmgen -n FirstLm -o FirstLm --debug:custom-hive \"{hive}\"", workspace.Root);
        Assert.True(created.Code == 0, created.Output);
        var project = Path.Combine(workspace.Root, "FirstLm");
        workspace.WriteNuGetConfig(project);
        Assert.Contains($"Version=\"{workspace.PackageVersion}\"", File.ReadAllText(Path.Combine(project, "FirstLm.csproj")));

        var build = Workspace.Run("dotnet", "build -c Release -nologo", project);
        Assert.True(build.Code == 0, "build failed:\n" + build.Output);
        var report = Directory.GetFiles(Path.Combine(project, "bin"), "slmgen-costs.json", SearchOption.AllDirectories).Single();
        using var json = JsonDocument.Parse(File.ReadAllText(report));
        var parameters = json.RootElement.GetProperty("models").EnumerateArray().ToDictionary(m => m.GetProperty("name").GetString()!, m => m.GetProperty("parameters").GetInt64());
        Assert.Equal(new[] { "TinyGpt", "TinyTransformer" }, parameters.Keys.Order());
        var run = Workspace.Run("dotnet", "run -c Release --no-build -- TinyGpt 12", project);
        Assert.True(run.Code == 0, "run failed:\n" + run.Output);
        Assert.Contains("trained 12 steps", run.Output);

        // The over-budget design fails the build, as the template promises.
        var model = Path.Combine(project, "TinyTransformer.cs");
        File.WriteAllText(model, File.ReadAllText(model).Replace("Layers = 2", "Layers = 12"));
        var over = Workspace.Run("dotnet", "build -c Release -nologo", project);
        Assert.NotEqual(0, over.Code);
        Assert.Contains("error SLM0100", over.Output);
        File.WriteAllText(model, File.ReadAllText(model).Replace("Layers = 12", "Layers = 2"));

        // slmgen, the tool, installed from the same feed.
        var slmgen = workspace.Tool();
        var baby = Workspace.Run(slmgen, $"costs \"{Path.Combine(Workspace.FindRepo(), "specs", "nanogpt", "baby-gpt.yaml")}\"", workspace.Root);
        Assert.True(baby.Code == 0, baby.Output);
        Assert.Contains("10,770,816", baby.Output);

        var costs = Workspace.Run(slmgen, "costs specs/tiny-gpt.yaml --json", project);
        Assert.True(costs.Code == 0, costs.Output);
        Assert.Equal(parameters["TinyGpt"], JsonDocument.Parse(costs.Output).RootElement.GetProperty("models")[0].GetProperty("parameters").GetInt64());

        var train = Workspace.Run(slmgen, "train specs/tiny-gpt.yaml --data data/input.txt --steps 10 --batch 4 --eval-every 5 --device cpu --run-dir run --result run/result.json", project);
        Assert.True(train.Code == 0, train.Output);
        Assert.Equal(10, JsonDocument.Parse(File.ReadAllText(Path.Combine(project, "run", "result.json"))).RootElement.GetProperty("steps").GetInt64());
        var sample = Workspace.Run(slmgen, "sample specs/tiny-gpt.yaml --checkpoint run/best.ckpt --data data/input.txt --tokens 30 --temperature 0 --device cpu", project);
        Assert.True(sample.Code == 0, sample.Output);
        var export = Workspace.Run(slmgen, "export specs/tiny-gpt.yaml --checkpoint run/last.ckpt --data data/input.txt --out export --onnx", project);
        Assert.True(export.Code == 0, export.Output);
        Assert.True(File.Exists(Path.Combine(project, "export", "hf", "config.json")), export.Output);

        // Ship it: an app with only the SlmGen.Inference package (no TorchSharp) generates `slmgen sample`'s greedy text.
        var app = Path.Combine(workspace.Root, "ShipApp");
        Directory.CreateDirectory(app);
        workspace.WriteNuGetConfig(app);
        File.WriteAllText(Path.Combine(app, "ShipApp.csproj"), $"""
            <Project Sdk="Microsoft.NET.Sdk">
              <PropertyGroup><OutputType>Exe</OutputType><TargetFramework>net10.0</TargetFramework><Nullable>enable</Nullable></PropertyGroup>
              <ItemGroup><PackageReference Include="SlmGen.Inference" Version="{workspace.PackageVersion}" /></ItemGroup>
            </Project>
            """);
        File.WriteAllText(Path.Combine(app, "Program.cs"), """
            using var model = SlmGen.Inference.LanguageModel.Load(args[0]);
            System.Console.Write("ROMEO:" + model.Generate("ROMEO:", SlmGen.Inference.SamplingSettings.Greedy(30)));
            """);
        var appBuild = Workspace.Run("dotnet", "build -c Release -nologo", app);
        Assert.True(appBuild.Code == 0, appBuild.Output);
        var appRun = Workspace.Run("dotnet", $"\"{Path.Combine(app, "bin", "Release", "net10.0", "ShipApp.dll")}\" \"{Path.Combine(project, "export", "onnx")}\"", app);
        Assert.True(appRun.Code == 0, appRun.Output);
        Assert.Empty(Directory.GetFiles(Path.Combine(app, "bin"), "*orch*", SearchOption.AllDirectories)); // no TorchSharp, no libtorch
        var greedy = Workspace.Run(slmgen, "sample specs/tiny-gpt.yaml --checkpoint run/last.ckpt --data data/input.txt --prompt ROMEO: --tokens 30 --temperature 0 --device cpu", project);
        Assert.True(greedy.Code == 0, greedy.Output);
        Assert.Equal(greedy.Output.TrimEnd('\n'), appRun.Output);

        // The project's costs (the tool builds it), a run configuration, a refused resume, a sweep.
        var projectCosts = Workspace.Run(slmgen, "costs .", project);
        Assert.True(projectCosts.Code == 0, projectCosts.Output);
        Assert.Contains(parameters["TinyTransformer"].ToString("N0", System.Globalization.CultureInfo.InvariantCulture), projectCosts.Output);
        File.WriteAllText(Path.Combine(project, "run.yaml"), "data: data/input.txt\nsteps: 6\nbatch: 4\neval_every: 3\ndevice: cpu\nrun_dir: run2\n");
        var configured = Workspace.Run(slmgen, "train specs/tiny-gpt.yaml --config run.yaml --result run2/result.json", project);
        Assert.True(configured.Code == 0, configured.Output);
        Assert.Equal(6, JsonDocument.Parse(File.ReadAllText(Path.Combine(project, "run2", "result.json"))).RootElement.GetProperty("steps").GetInt64());
        var refused = Workspace.Run(slmgen, "train specs/tiny-gpt.yaml --config run.yaml --steps 9 --resume", project);
        Assert.Equal(2, refused.Code);
        Assert.Contains("steps 6 → 9", refused.Output);
        File.WriteAllText(Path.Combine(project, "sweep.yaml"), """
            base: specs/tiny-gpt.yaml
            grid:
              embedding: [32, 128]
            budget: { max_parameters: 150k }
            train: { data: data/input.txt, steps: 4, batch: 4, eval_every: 2, device: cpu }
            out: sweep
            """);
        var sweep = Workspace.Run(slmgen, "sweep sweep.yaml", project);
        Assert.True(sweep.Code == 0, sweep.Output);
        var points = File.ReadAllLines(Path.Combine(project, "sweep", "results.jsonl")).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        Assert.Equal(2, points.Count);
        Assert.Equal("done", points[0].GetProperty("status").GetString());
        Assert.StartsWith("over budget: parameters", points[1].GetProperty("status").GetString());
        var log = Path.Combine(project, "sweep", "p000", "train.log");
        var trainedAt = File.GetLastWriteTimeUtc(log);
        var again = Workspace.Run(slmgen, "sweep sweep.yaml", project);
        Assert.True(again.Code == 0, again.Output);
        Assert.Equal(trainedAt, File.GetLastWriteTimeUtc(log)); // done points are not trained again

        // Mistakes in a sweep template are one located line each, before anything compiles or trains.
        foreach (var (template, expected) in new[]
                 {
                     ("base: specs/tiny-gpt.yaml\ngrid:\n  embedding: [32]\nseed: [1]\n", "bad.yaml(4,1): unknown template key 'seed'"),
                     ("base: specs/tiny-gpt.yaml\ngrid:\n  \"embedding, dropout\": [[32, 0.1], [64]]\n", "bad.yaml(3,37): each value of 'embedding, dropout' must be a list of 2 values"),
                     ("base: specs/tiny-gpt.yaml\ngrid:\n  embedding: [32]\ntrain: { data: data/input.txt, flops: 1e9, steps: 3 }\n", "train sets both 'flops' and 'steps'"),
                     ("base: specs/tiny-gpt.yaml\ngrid:\n  train.flops: [1e9]\n", "bad.yaml(3,3): 'train.flops' is not a training option a point can set"),
                 })
        {
            File.WriteAllText(Path.Combine(project, "bad.yaml"), template);
            var refusedSweep = Workspace.Run(slmgen, "sweep bad.yaml --dry-run", project);
            Assert.Equal(2, refusedSweep.Code);
            Assert.Contains(expected, refusedSweep.Output);
        }

        var bad = Workspace.Run(slmgen, "costs no-such-spec.yaml", project);
        Assert.Equal(2, bad.Code);
        Assert.Contains("error: no-such-spec.yaml: no such spec file.", bad.Output);
        var badOption = Workspace.Run(slmgen, "train specs/tiny-gpt.yaml --data data/input.txt --steps 0", project);
        Assert.NotEqual(0, badOption.Code);
        Assert.Contains("--steps must be a whole number of at least 1", badOption.Output);
    }

    [Fact]
    public void Every_lab_experiment_runs_at_CI_scale_from_its_template_to_a_table_row()
    {
        // The lab's own templates, through the installed tool: the points compiled with the experiment's FLOP budget,
        // one design and one seed each trained for a few steps of 2 windows on CPU, evaluated on the first 2,000 test
        // tokens, timed alone, recorded; then the lab's report turns the records into its tables and plots. The same
        // path as the GPU runs, so the lab cannot rot.
        var slmgen = workspace.Tool();
        var repo = Workspace.FindRepo();
        var records = Path.Combine(workspace.Root, "lab-records");
        var experiments = Directory.GetFiles(Path.Combine(repo, "results", "lab", "experiments"), "*.yaml").Order(StringComparer.Ordinal).ToList();
        Assert.True(experiments.Count >= 9, string.Join(", ", experiments));
        foreach (var template in experiments)
        {
            var name = Path.GetFileNameWithoutExtension(template);
            var sweep = Workspace.Run(slmgen, $"sweep \"{template}\" --points 1 --seeds 7 --train flops=1.2e10 --train min_steps=2 --train batch=2 --train eval_tokens=2000 --train device=cpu --time --out \"{Path.Combine(records, name)}\"", repo);
            Assert.True(sweep.Code == 0, sweep.Output);
            var point = JsonDocument.Parse(File.ReadAllLines(Path.Combine(records, name, "results.jsonl")).Single()).RootElement;
            Assert.True(point.GetProperty("status").GetString() == "done", name + ": " + point.GetProperty("status").GetString() + "\n" + sweep.Output);
            var result = point.GetProperty("runs")[0].GetProperty("result");
            var steps = point.GetProperty("train").GetProperty("steps").GetString();
            Assert.Equal(long.Parse(steps!, System.Globalization.CultureInfo.InvariantCulture), result.GetProperty("steps").GetInt64());
            Assert.True(result.GetProperty("exact_training_flops").GetDouble() <= 1.2e10, name);
            Assert.True(result.GetProperty("test_bits_per_character").GetDouble() is > 0 and < 20, name);
            Assert.Equal(JsonValueKind.Object, point.GetProperty("timing").ValueKind);
        }

        // The experiment's budget is the build's: at 5e9 FLOPs and at least 2 steps of 2 windows, the 1k-BPE design fits
        // (8.0 M FLOPs per token → 4.1e9 for 2 steps) and the 11k design does not (15.8 M → 8.1e9): its build says over budget.
        var tight = Workspace.Run(slmgen, $"sweep \"{Path.Combine(repo, "results", "lab", "experiments", "vocab-shakespeare-4x.yaml")}\" --dry-run --train flops=5e9 --train min_steps=2 --train batch=2 --out \"{Path.Combine(workspace.Root, "lab-tight")}\"", repo);
        Assert.True(tight.Code == 0, tight.Output);
        var tightPoints = File.ReadAllLines(Path.Combine(workspace.Root, "lab-tight", "results.jsonl")).Select(l => JsonDocument.Parse(l).RootElement).ToDictionary(p => p.GetProperty("values").GetProperty("vocab").GetString()!);
        Assert.Equal("not trained", tightPoints["1024"].GetProperty("status").GetString());
        Assert.Equal("2", tightPoints["1024"].GetProperty("train").GetProperty("steps").GetString());
        var over = tightPoints["11155"].GetProperty("status").GetString()!;
        Assert.StartsWith("over budget: training_flops 8,077,312,000 > 5,000,000,000", over);
        Assert.Contains("allow fewer than 2 steps", over);

        var report = Path.Combine(workspace.Root, "lab-report");
        var rows = SlmGen.Samples.LabReport.LabTables.Write(records, report);
        Assert.Equal(experiments.Count, rows);
        var readme = File.ReadAllText(Path.Combine(report, "README.md"));
        foreach (var section in new[] { "### Tiny Shakespeare", "### WikiText-2", "## 2. Block sharing", "## 3. Width allocation", "## 4. Precision" })
        {
            Assert.Contains(section, readme);
        }

        Assert.Equal(4, Directory.GetFiles(Path.Combine(report, "plots"), "*.png").Length);
    }

    private static void AssertMatches(string pattern, string output) =>
        Assert.True(System.Text.RegularExpressions.Regex.IsMatch(output, pattern), $"/{pattern}/ not found in:\n{output}");

    private static void AssertBuildsAndRuns(string dir)
    {
        var build = Workspace.Run("dotnet", "build -c Release -nologo", dir);
        Assert.True(build.Code == 0, "build failed:\n" + build.Output);
        Assert.DoesNotContain("CS8785", build.Output);
        Assert.DoesNotContain("CS8784", build.Output);
        Assert.DoesNotContain("CS9057", build.Output);

        // The cost report of both models was written next to the assembly.
        var report = Directory.GetFiles(Path.Combine(dir, "bin"), "slmgen-costs.json", SearchOption.AllDirectories).Single();
        using var json = JsonDocument.Parse(File.ReadAllText(report));
        var models = json.RootElement.GetProperty("models").EnumerateArray().ToDictionary(m => m.GetProperty("name").GetString()!, m => m.GetProperty("parameters").GetInt64());
        Assert.Equal(2, models.Count);

        // The program instantiates every model with TorchSharp and checks its costs.
        var run = Workspace.Run("dotnet", "run -c Release --no-build", dir);
        Assert.True(run.Code == 0, "run failed:\n" + run.Output);
        Assert.Contains($"Declared {models["Declared"]} ok", run.Output);
        Assert.Contains($"FromYaml {models["FromYaml"]} ok", run.Output);
    }

    /// <summary>A scratch copy of the repository's src/ and build/, packed once, and consumer folders beside it.</summary>
    public sealed class Workspace : IDisposable
    {
        public Workspace()
        {
            Root = Path.Combine(Path.GetTempPath(), "slmgen-consumers-" + Guid.NewGuid().ToString("N")[..8]);
            Copy = Path.Combine(Root, "repo");
            Feed = Path.Combine(Root, "feed");
            PackageVersion = "0.2.0-test" + DateTime.UtcNow.ToString("yyyyMMddHHmmss");
            var repo = FindRepo();
            foreach (var file in new[] { "Directory.Build.props", "Directory.Packages.props", "global.json" })
            {
                CopyFile(Path.Combine(repo, file), Path.Combine(Copy, file));
            }

            CopyTree(Path.Combine(repo, "src"), Path.Combine(Copy, "src"));
            CopyTree(Path.Combine(repo, "build"), Path.Combine(Copy, "build"));
            foreach (var project in new[] { "src/SlmGen.Runtime/SlmGen.Runtime.csproj", "src/SlmGen.Cli/SlmGen.Cli.csproj", "src/SlmGen.Templates/SlmGen.Templates.csproj", "src/SlmGen.Inference/SlmGen.Inference.csproj" })
            {
                var pack = Run("dotnet", $"pack {project} -c Release -o \"{Feed}\" -p:Version={PackageVersion} -nologo", Copy);
                if (pack.Code != 0)
                {
                    throw new InvalidOperationException($"pack {project} failed:\n" + pack.Output);
                }
            }
        }

        public string Root { get; }

        public string Copy { get; }

        public string Feed { get; }

        public string PackageVersion { get; }

        private string? tool;

        /// <summary>slmgen installed from the feed (once for all the tests of the fixture).</summary>
        public string Tool()
        {
            if (tool is null)
            {
                var tools = Path.Combine(Root, "tools");
                var install = Run("dotnet", $"tool install SlmGen.Cli --version {PackageVersion} --tool-path \"{tools}\" --add-source \"{Feed}\"", Root);
                Assert.True(install.Code == 0, install.Output);
                tool = Path.Combine(tools, "slmgen");
            }

            return tool;
        }

        /// <summary>A nuget.config that adds the local feed to the machine's sources.</summary>
        public void WriteNuGetConfig(string dir) => File.WriteAllText(Path.Combine(dir, "nuget.config"), $"""
            <?xml version="1.0" encoding="utf-8"?>
            <configuration>
              <packageSources>
                <add key="slmgen-local" value="{Feed}" />
              </packageSources>
            </configuration>
            """);

        public string NewConsumer(string name, string csproj)
        {
            var dir = Path.Combine(Root, name);
            Directory.CreateDirectory(Path.Combine(dir, "specs"));
            File.WriteAllText(Path.Combine(dir, name + ".csproj"), csproj);
            File.WriteAllText(Path.Combine(dir, "specs", "from-yaml.yaml"), """
                # A consumer's YAML spec.
                vocab: 50
                context: 16
                embedding: 32
                positions: rope
                layers:
                  - transformer: { layers: 2, heads: 4, ffn: 2x, activation: swiglu, norm: rmsnorm }
                final_norm: rmsnorm
                head: tied
                """);
            File.WriteAllText(Path.Combine(dir, "Declared.cs"), """
                using SlmGen;
                namespace Consumer;
                [Model(Vocab = 50, Context = 16, Dropout = 0.1)]
                [TokenEmbedding(Dim = 24)]
                [ContextFlatten(Window = 8)]
                [Dense(64, Activation = Act.Gelu)]
                [LMHead(Bias = true)]
                public partial class Declared { }
                """);
            File.WriteAllText(Path.Combine(dir, "Program.cs"), """
                using System;
                using SlmGen;
                foreach (var m in ModelCatalog.For(typeof(Consumer.Declared).Assembly))
                {
                    using var model = m.Create();
                    var measured = CostProbe.Measure(model);
                    var ok = model.CountParameters() == m.Cost.Parameters && measured.ForwardFlopsPerPrediction == m.Cost.ForwardFlopsPerToken;
                    Console.WriteLine($"{m.Name} {m.Cost.Parameters} {(ok ? "ok" : "MISMATCH")}");
                    if (!ok) return 1;
                }
                return 0;
                """);
            return dir;
        }

        public void Dispose()
        {
            try
            {
                Directory.Delete(Root, recursive: true);
                foreach (var id in new[] { "slmgen", "slmgen.cli", "slmgen.templates", "slmgen.inference" })
                {
                    var cached = Path.Combine(Environment.GetEnvironmentVariable("NUGET_PACKAGES")
                                              ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages"), id, PackageVersion);
                    if (Directory.Exists(cached))
                    {
                        Directory.Delete(cached, recursive: true);
                    }
                }
            }
            catch (IOException)
            {
            }
        }

        internal static (int Code, string Output) Run(string file, string args, string dir)
        {
            var psi = new ProcessStartInfo(file, args)
            {
                WorkingDirectory = dir,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
            };
            psi.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
            psi.Environment["MSBUILDDISABLENODEREUSE"] = "1";
            using var process = Process.Start(psi)!;
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            process.WaitForExit();
            return (process.ExitCode, stdout.Result + stderr.Result);
        }

        internal static string FindRepo()
        {
            for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            {
                if (File.Exists(Path.Combine(dir.FullName, "SlmGen.sln")))
                {
                    return dir.FullName;
                }
            }

            throw new InvalidOperationException("SlmGen.sln not found");
        }

        private static void CopyTree(string from, string to)
        {
            foreach (var file in Directory.GetFiles(from, "*", SearchOption.AllDirectories))
            {
                var relative = Path.GetRelativePath(from, file);
                var parts = relative.Split(Path.DirectorySeparatorChar);
                if (parts.Any(p => p is "bin" or "obj"))
                {
                    continue;
                }

                CopyFile(file, Path.Combine(to, relative));
            }
        }

        private static void CopyFile(string from, string to)
        {
            Directory.CreateDirectory(Path.GetDirectoryName(to)!);
            File.Copy(from, to, overwrite: true);
        }
    }
}
