using Xunit;
using Xunit.Abstractions;
using ServicesDemo;

namespace Services.Tests;

/// <summary>Allocation per request through the whole demo, measured with no other test running.</summary>
[Collection(Serial.Name)]
public sealed class ServicesAllocationTests : IDisposable
{
    private readonly ITestOutputHelper _output;
    private readonly RunningApp _running = new();

    public ServicesAllocationTests(ITestOutputHelper output) => _output = output;

    private ServicesApp App => _running.App;

    [Fact]
    public void Allocation_per_request_is_reported()
    {
        // Whole-process bytes (all threads: front loop, backend loop) per request, in steady state.
        using var client = new RawHttp(App.LocalEndPoint);
        double PerRequest(string request, int count)
        {
            // The first answer tells the length of every answer (they are all alike); then plain socket calls
            // with fixed buffers, so that the client adds nothing to the count.
            client.Send(request);
            (int status, string headers, string body) = client.Read();
            Assert.Equal(200, status);
            int length = System.Text.Encoding.UTF8.GetByteCount(headers) + 4 + System.Text.Encoding.UTF8.GetByteCount(body);
            byte[] bytes = System.Text.Encoding.ASCII.GetBytes(request);
            byte[] answer = new byte[length];

            void RoundTrip()
            {
                client.Socket.Send(bytes);
                for (int received = 0; received < length;)
                {
                    received += client.Socket.Receive(answer, received, length - received, System.Net.Sockets.SocketFlags.None);
                }
            }

            for (int i = 0; i < 200; i++)
            {
                RoundTrip();
            }

            long before = GC.GetTotalAllocatedBytes(precise: true);
            for (int i = 0; i < count; i++)
            {
                RoundTrip();
            }

            return (double)(GC.GetTotalAllocatedBytes(precise: true) - before) / count;
        }

        double ping = PerRequest(RawHttp.Get("/ping"), 2000);
        double timeline = PerRequest(RawHttp.Get("/timeline/alice", ServicesApp.DemoToken), 1000);
        _output.WriteLine($"process-wide allocation (all threads): /ping {ping:0} B/request, /timeline {timeline:0} B/request");
        Assert.True(timeline > 0);
    }

    public void Dispose() => _running.Dispose();
}
