global using System.Net;
global using System.Net.Sockets;
global using Polling.Net;
global using Xunit;
global using Xunit.Abstractions;
global using TcpListener = Polling.Net.TcpListener;
