// Steps aside so that github.com/tencentcloud/tencentcloud-sdk-go (the SDK's single module) provides the
// package: see ../go.mod.
module github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/vpc
