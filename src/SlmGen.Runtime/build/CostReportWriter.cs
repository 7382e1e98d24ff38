#nullable enable
// MSBuild inline task (see SlmGen.targets): copies the cost report that the SlmGen generator put into
// the compiled assembly (the constant SlmGen.Generated.SlmGenCostReport.Json) into a JSON file, so that
// CI can diff the cost of a change. The assembly is read as metadata only: nothing of it runs.
using System;
using System.IO;
using System.Linq;
using System.Reflection;
using System.Runtime.InteropServices;

namespace SlmGen.Build
{
    public sealed class SlmGenWriteCostReport : Microsoft.Build.Utilities.Task
    {
        [Microsoft.Build.Framework.Required]
        public string Assembly { get; set; } = "";

        [Microsoft.Build.Framework.Required]
        public string OutputPath { get; set; } = "";

        public override bool Execute()
        {
            try
            {
                // MetadataLoadContext ships with MSBuild; it is reached through reflection because inline
                // tasks compile against netstandard, where its types cannot be named.
                var runtimeDir = RuntimeEnvironment.GetRuntimeDirectory();
                var paths = Directory.GetFiles(runtimeDir, "*.dll").Append(Assembly).ToArray();
                var mlc = System.Reflection.Assembly.LoadFrom(Path.Combine(Path.GetDirectoryName(typeof(Microsoft.Build.Utilities.Task).Assembly.Location)!, "System.Reflection.MetadataLoadContext.dll"));
                var resolver = Activator.CreateInstance(mlc.GetType("System.Reflection.PathAssemblyResolver", true)!, new object[] { paths });
                var contextType = mlc.GetType("System.Reflection.MetadataLoadContext", true)!;
                var context = (IDisposable)Activator.CreateInstance(contextType, new object?[] { resolver, null })!;
                using (context)
                {
                    var asm = (System.Reflection.Assembly)contextType.GetMethod("LoadFromAssemblyPath")!.Invoke(context, new object[] { Assembly })!;
                    var type = asm.GetType("SlmGen.Generated.SlmGenCostReport", throwOnError: false);
                    var field = type?.GetField("Json", BindingFlags.Public | BindingFlags.Static);
                    if (field?.GetRawConstantValue() is not string json)
                    {
                        return true; // no models in this assembly
                    }

                    var dir = Path.GetDirectoryName(Path.GetFullPath(OutputPath));
                    if (!string.IsNullOrEmpty(dir))
                    {
                        Directory.CreateDirectory(dir);
                    }

                    var temp = OutputPath + ".tmp";
                    File.WriteAllText(temp, json + "\n");
                    File.Copy(temp, OutputPath, overwrite: true);
                    File.Delete(temp);
                    Log.LogMessage(Microsoft.Build.Framework.MessageImportance.Normal, "SlmGen: cost report written to " + OutputPath);
                }
            }
            catch (Exception ex)
            {
                Log.LogWarning(null, "SLMGEN_REPORT", null, Assembly, 0, 0, 0, 0,
                    "SlmGen could not write the cost report {0}: {1}", OutputPath, ex.Message);
            }

            return true;
        }
    }
}
