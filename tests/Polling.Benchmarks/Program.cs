// Benchmarks print numbers; tests check behaviour. Run all (or filter) with:
//   dotnet run -c Release --project tests/Polling.Benchmarks -- --filter '*'
using BenchmarkDotNet.Running;

BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
