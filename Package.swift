// swift-tools-version: 6.1
import PackageDescription

let package = Package(
    name: "aviary",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "aviary", targets: ["aviary"]),
        .library(name: "Jute", targets: ["Jute"]),
        .library(name: "ZooKeeperProtocol", targets: ["ZooKeeperProtocol"]),
        .library(name: "DataTree", targets: ["DataTree"]),
        .library(name: "ServerCore", targets: ["ServerCore"]),
        .library(name: "Configuration", targets: ["Configuration"]),
        .library(name: "Consensus", targets: ["Consensus"]),
        .library(name: "Storage", targets: ["Storage"]),
        .library(name: "Operations", targets: ["Operations"]),
        .library(name: "Server", targets: ["Server"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-collections", from: "1.6.0"),
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift", from: "0.2.0"),
    ],
    targets: [
        .target(name: "Jute", dependencies: [.product(name: "NIOCore", package: "swift-nio")]),
        .target(name: "ZooKeeperProtocol", dependencies: ["Jute", .product(name: "NIOCore", package: "swift-nio")]),
        .target(name: "CAviaryChecksums"),
        .target(name: "CAviaryPrefetch"),
        .target(name: "CAviaryWriteback"),
        .target(name: "CAviaryGSSAPI", linkerSettings: [.linkedLibrary("dl")]),
        .target(name: "DataTree", dependencies: ["ZooKeeperProtocol", "Jute", "CAviaryChecksums", "CAviaryPrefetch", .product(name: "NIOCore", package: "swift-nio")]),
        .target(name: "Configuration"),
        .target(name: "Consensus", dependencies: ["ZooKeeperProtocol", "Jute", .product(name: "NIOCore", package: "swift-nio")]),
        .target(
            name: "Storage",
            dependencies: [
                "DataTree", "ZooKeeperProtocol", "Jute", "CAviaryChecksums", "CAviaryWriteback",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            ]
        ),
        .target(
            name: "ServerCore",
            dependencies: [
                "DataTree", "ZooKeeperProtocol", "Configuration",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "DequeModule", package: "swift-collections"),
            ]
        ),
        .target(
            name: "Operations",
            dependencies: ["ServerCore", "DataTree", "Configuration", "ZooKeeperProtocol"]
        ),
        .target(
            name: "Server",
            dependencies: [
                "ServerCore", "Configuration", "ZooKeeperProtocol", "Storage", "Operations", "Consensus", "CAviaryGSSAPI",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOTLS", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .target(
            name: "Bench",
            dependencies: [
                "Server", "ZooKeeperProtocol", "Jute",
                .product(name: "Histogram", package: "hdrhistogram-swift"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ]
        ),
        .target(name: "CAviaryMalloc"),
        .executableTarget(
            name: "aviary",
            dependencies: [
                "CAviaryMalloc", "Server", "Configuration", "Storage", "DataTree", "ZooKeeperProtocol", "Operations", "Bench", "Consensus",
                "Jute",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            ]
        ),
        .testTarget(name: "JuteTests", dependencies: ["Jute"]),
        .testTarget(name: "ZooKeeperProtocolTests", dependencies: ["ZooKeeperProtocol"], exclude: ["Fixtures"]),
        .testTarget(name: "CAviaryChecksumsTests", dependencies: ["CAviaryChecksums"]),
        .testTarget(name: "DataTreeTests", dependencies: ["DataTree"]),
        .testTarget(name: "ServerCoreTests", dependencies: ["ServerCore", "DataTree", "ZooKeeperProtocol", "Configuration"]),
        .testTarget(name: "ConfigurationTests", dependencies: ["Configuration"]),
        .testTarget(name: "ConsensusTests", dependencies: ["Consensus", "ZooKeeperProtocol", "Jute", .product(name: "NIOCore", package: "swift-nio")]),
        .testTarget(name: "StorageTests", dependencies: [
            "Storage", "DataTree", "ZooKeeperProtocol", "Jute", .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
        ]),
        .testTarget(name: "OperationsTests", dependencies: ["Operations", "ServerCore", "Configuration"]),
        .testTarget(name: "BenchTests", dependencies: ["Bench"]),
        .testTarget(
            name: "ServerTests",
            dependencies: [
                "Server", "Storage", "DataTree", "ZooKeeperProtocol", "Jute",
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
            ]
        ),
    ],
    swiftLanguageModes: [.v6]
)
